// The remiss form, enhanced: select a passage in the draft and press one button to start a
// comment anchored to it (section key, quoted text and its offsets in the section's text).
// Without this file the section picker and the quote field do the same by hand.
(function () {
  "use strict";

  function anchorOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest("[data-anchor]") : null;
  }

  // The selection as {key, quote, start, end} when it lies inside one section's text.
  function currentPassage() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return null; }
    var range = selection.getRangeAt(0);
    var anchor = anchorOf(range.startContainer);
    if (!anchor || anchor !== anchorOf(range.endContainer)) { return null; }
    var before = document.createRange();
    before.selectNodeContents(anchor);
    before.setEnd(range.startContainer, range.startOffset);
    var quote = range.toString();
    var start = before.toString().length;
    if (!quote.trim()) { return null; }
    return { key: anchor.getAttribute("data-anchor"), quote: quote, start: start, end: start + quote.length };
  }

  function setUp(form) {
    var tool = document.getElementById("passage-tool");
    var button = document.getElementById("passage-button");
    var picker = form.querySelector('[name="new_section"]');
    var quoteField = form.querySelector('[name="new_quote"]');
    var startField = form.querySelector('[name="new_start"]');
    var endField = form.querySelector('[name="new_end"]');
    var textField = form.querySelector('[name="new_text"]');
    if (!tool || !button || !picker || !quoteField) { return; }
    var passage = null;

    document.addEventListener("selectionchange", function () {
      passage = currentPassage();
      tool.hidden = passage === null;
    });

    button.addEventListener("click", function () {
      if (!passage) { return; }
      picker.value = passage.key;
      quoteField.value = passage.quote;
      startField.value = String(passage.start);
      endField.value = String(passage.end);
      tool.hidden = true;
      textField.scrollIntoView({ block: "center" });
      textField.focus();
    });

    // A quote typed or edited by hand no longer matches the stored offsets: let the server find it.
    quoteField.addEventListener("input", function () { startField.value = ""; endField.value = ""; });
    picker.addEventListener("change", function () { startField.value = ""; endField.value = ""; });

    // Refuse an attachment over the limit before uploading it, so nothing typed is lost.
    var file = form.querySelector('input[type="file"][data-max-bytes]');
    if (file) {
      form.addEventListener("submit", function (event) {
        var limit = parseInt(file.getAttribute("data-max-bytes"), 10);
        if (file.files && file.files[0] && file.files[0].size > limit) {
          event.preventDefault();
          file.setCustomValidity(file.getAttribute("data-too-large"));
          file.reportValidity();
        }
      });
      file.addEventListener("change", function () { file.setCustomValidity(""); });
    }
  }

  function setUpPrint() {
    document.querySelectorAll("[data-print-button]").forEach(function (holder) {
      holder.hidden = false;
      holder.querySelector("button").addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("answer-form");
    if (form) { setUp(form); }
    setUpPrint();
  });
})();
