/* What the strict Content-Security-Policy (csm/settings.py) keeps out of the templates: no inline
   script, no event handler attribute, no style attribute. The markup says what it wants with data
   attributes, and this file does it, for the page and for whatever htmx swaps in later.

   data-copy="ID" (a button): copies the value of the input ID and says "data-copied".
   data-select-on-focus (an input): selects its text when focused, to copy it by hand.
   data-w="37%" (a bar): sets the CSS variable --w its width is computed from.
   data-select-all="FORM" (a checkbox): ticks or unticks every row checkbox of form FORM.
   select[data-bulk-action] in a form: shows only the form's [data-for] fields of the chosen action. */
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

  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (all) {
      var form = all.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name=items][form="' + form + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    }
    // A row unticked after "select all": the action is for the ticked rows only, not all shown.
    var row = event.target.matches && event.target.matches("input[type=checkbox][name=items][form]");
    if (row && !event.target.checked) {
      var selectAll = document.querySelector('[data-select-all="' + event.target.getAttribute("form") + '"]');
      if (selectAll) selectAll.checked = false;
    }
    if (event.target.matches && event.target.matches("select[data-bulk-action]")) showActionFields(event.target);
  });

  function showActionFields(select) {
    var form = select.form;
    if (!form) return;
    form.querySelectorAll("[data-for]").forEach(function (part) {
      part.hidden = part.getAttribute("data-for").split(" ").indexOf(select.value) < 0;
    });
  }

  function setUp(root) {
    setWidths(root);
    root.querySelectorAll("select[data-bulk-action]").forEach(showActionFields);
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  });

  document.addEventListener("htmx:load", function (event) {
    setUp(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
