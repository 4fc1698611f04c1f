// consult: small enhancements of the project's own. Every page works without this file.
(function () {
  "use strict";

  // After a page swap (or a full load with errors), move focus where a keyboard or screen
  // reader user expects it: the error summary if there is one, else the page heading.
  function focusFirst(root) {
    var target = (root || document).querySelector("[data-focus-first]");
    if (target) { target.focus(); }
  }

  // Show or hide questions whose display condition depends on an answer on the same page.
  // The server applies the same rule on submit, so this is only a convenience.
  function selectedValues(form, code) {
    var values = [];
    form.querySelectorAll('[name="' + code + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  function applyConditions(form) {
    form.querySelectorAll("[data-condition-question]").forEach(function (block) {
      var code = block.getAttribute("data-condition-question");
      if (!form.querySelector('[name="' + code + '"]')) { return; }  // decided on an earlier page
      var op = block.getAttribute("data-condition-op");
      var value = block.getAttribute("data-condition-value");
      var chosen = selectedValues(form, code);
      var met = op === "not" ? chosen.indexOf(value) === -1 : chosen.indexOf(value) !== -1;
      block.hidden = !met;
    });
  }

  function enhance(root) {
    (root || document).querySelectorAll("form").forEach(function (form) {
      applyConditions(form);
      form.addEventListener("change", function () { applyConditions(form); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    enhance(event.target);
    focusFirst(document);
  });
})();
