// consult: small enhancements of the project's own. Every page works without this file.
(function () {
  "use strict";

  // Marks the page as scripted, for the few things only a page without scripts shows.
  document.documentElement.classList.add("js");

  // After a page swap (or a full load with errors), move focus where a keyboard or screen
  // reader user expects it: the error summary if there is one, else the page heading.
  function focusFirst(root) {
    var target = (root || document).querySelector("[data-focus-first]");
    if (target) { target.focus(); }
  }

  // Show or hide questions whose display condition depends on an answer on the same page.
  // The server applies the same rule on submit, so this is only a convenience. A condition
  // (data-condition, JSON) is a test {question, op, value} or {all: [...]}, {any: [...]},
  // {not: ...}. The server has already decided the tests on earlier pages; a test on a
  // question that is not on this page, or is hidden, has no truth value (null), as there.
  function selectedValues(form, code) {
    var values = [];
    form.querySelectorAll('[name="' + code + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  function testValue(form, test) {
    var block = form.querySelector("#q-" + test.question);
    if (!block || block.hidden) { return null; }
    var chosen = selectedValues(form, test.question);
    var value = String(test.value);
    if (test.op === "equals") { return chosen.length === 1 && chosen[0] === value; }
    var included = chosen.indexOf(value) !== -1;
    return test.op === "not" ? !included : included;
  }

  // Three-valued logic: false decides "all", true decides "any", otherwise unknown is catching.
  function evaluate(form, condition) {
    if (Object.prototype.hasOwnProperty.call(condition, "not")) {
      var inner = evaluate(form, condition.not);
      return inner === null ? null : !inner;
    }
    var isAny = Object.prototype.hasOwnProperty.call(condition, "any");
    var parts = isAny ? condition.any : condition.all;
    if (!parts) { return testValue(form, condition); }
    var unknown = false;
    for (var i = 0; i < parts.length; i += 1) {
      var result = evaluate(form, parts[i]);
      if (result === isAny) { return isAny; }
      if (result === null) { unknown = true; }
    }
    return unknown ? null : !isAny;
  }

  // In page order, so a question hidden a moment ago counts as not asked for later ones.
  function applyConditions(form) {
    form.querySelectorAll("[data-condition]").forEach(function (block) {
      var condition;
      try { condition = JSON.parse(block.getAttribute("data-condition")); } catch (e) { return; }
      block.hidden = evaluate(form, condition) !== true;
    });
  }

  // The whole document each time: after an outerHTML swap the event's target is the element
  // that was replaced, no longer in the page. Each form gets its listener once.
  function enhance() {
    document.querySelectorAll("form").forEach(function (form) {
      applyConditions(form);
      if (form.hasAttribute("data-conditions-bound")) { return; }
      form.setAttribute("data-conditions-bound", "");
      form.addEventListener("change", function () { applyConditions(form); });
    });
  }

  // A form posted without htmx comes back as a whole page: its error summary (or conflict
  // notice) takes focus as after a swap, so a screen reader announces it and Tab goes on from it.
  // A page without problems keeps the browser's own focus at the top.
  function focusProblems() {
    var alert = document.querySelector('[role="alert"][data-focus-first]');
    if (alert) { alert.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance();
    focusProblems();
  });
  document.addEventListener("htmx:afterSettle", function () {
    enhance();
    focusFirst(document);
  });

  // A link of an error summary focuses its field with the field's label (or legend) and error on
  // screen, as GOV.UK's error summary does: the browser's own jump puts the field at the very top,
  // with the label and the error above it, out of sight. (Without this script, the stylesheet's
  // scroll-margin-top leaves room above a field.)
  function describedBy(field) {
    var found = [];
    (field.getAttribute("aria-describedby") || "").split(/\s+/).forEach(function (id) {
      var element = id && document.getElementById(id);
      if (element) { found.push(element); }
    });
    return found;
  }

  function namingElement(field) {
    if (field.tagName === "FIELDSET") { return field.querySelector("legend"); }
    if (field.id) {
      var label = document.querySelector('label[for="' + field.id.replace(/(["\\])/g, "\\$1") + '"]');
      if (label) { return label; }
    }
    var fieldset = field.closest("fieldset");
    return fieldset ? fieldset.querySelector("legend") : null;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest('.error-summary a[href^="#"]') : null;
    if (!link) { return; }
    var field;
    try { field = document.getElementById(decodeURIComponent(link.hash.slice(1))); } catch (e) { return; }
    if (!field) { return; }
    var shown = [field].concat(describedBy(field));
    var naming = namingElement(field);
    if (naming) { shown.push(naming); }
    var top = Infinity;
    var bottom = -Infinity;
    shown.forEach(function (element) {
      var box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) { return; }  // hidden: nothing to show
      top = Math.min(top, box.top);
      bottom = Math.max(bottom, box.bottom);
    });
    if (top === Infinity) { return; }
    event.preventDefault();
    var fieldBox = field.getBoundingClientRect();
    var margin = 16;
    // All of it when it fits; otherwise the field itself, as low as it can be with its label above.
    var shift = bottom - top + 2 * margin <= window.innerHeight
      ? top - margin
      : Math.min(top - margin, fieldBox.bottom + margin - window.innerHeight);
    window.scrollBy(0, shift);
    field.focus({ preventScroll: true });
  });

  // Interview answers that could not be saved wait on the device (static/interviews.js keeps them
  // per person) until the same person logs in here again. Logging out does not send or delete
  // them, so it says so first: the interviewer may rather wait for the network.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-logout")) { return; }
    var person = form.getAttribute("data-person");
    var waiting = 0;
    ["consult.interviews.queue.v2.", "consult.interviews.problems.v2."].forEach(function (prefix) {
      try {
        var items = JSON.parse(window.localStorage.getItem(prefix + person) || "[]");
        if (Array.isArray(items)) { waiting += items.length; }
      } catch (error) { /* no storage, so nothing waits in it */ }
    });
    if (!waiting) { return; }
    var message = form.getAttribute(waiting === 1 ? "data-text-waiting-one" : "data-text-waiting-many") || "";
    if (!window.confirm(message.replace("{n}", String(waiting)))) { event.preventDefault(); }
  });

  // A survey form's answer that is an error (the survey closed meanwhile, too many attempts, the
  // form expired): a survey page of its own (#survey) is swapped in like any other; a page without
  // one replaces the whole page. Either way the person sees why nothing happened.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status < 400 || !detail.target || detail.target.id !== "survey") { return; }
    if (detail.xhr.responseText.indexOf('id="survey"') !== -1) {
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    detail.shouldSwap = false;
    var page = new DOMParser().parseFromString(detail.xhr.responseText, "text/html");
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
    focusFirst(document);
  });
})();
