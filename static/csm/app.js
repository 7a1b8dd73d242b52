/* What the strict Content-Security-Policy (csm/settings.py) keeps out of the templates: no inline
   script, no event handler attribute, no style attribute. The markup says what it wants with data
   attributes, and this file does it, for the page and for whatever htmx swaps in later.

   data-copy="ID" (a button): copies the value of the input ID and says "data-copied".
   data-select-on-focus (an input): selects its text when focused, to copy it by hand.
   data-w="37%" (a bar): sets the CSS variable --w its width is computed from. */
(function () {
  "use strict";

  function setWidths(root) {
    root.querySelectorAll("[data-w]").forEach(function (bar) {
      bar.style.setProperty("--w", bar.getAttribute("data-w"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    if (navigator.clipboard) navigator.clipboard.writeText(field.value);
    if (button.hasAttribute("data-copied")) button.textContent = button.getAttribute("data-copied");
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  document.addEventListener("htmx:load", function (event) {
    setWidths(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setWidths(document); });
  } else {
    setWidths(document);
  }
})();
