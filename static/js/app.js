// Page behaviour that must not live in inline scripts (strict CSP).
(function () {
  "use strict";

  // Bar segments whose width comes from the data (data-width="37" means 37%).
  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      var width = parseFloat(el.getAttribute("data-width"));
      if (!isNaN(width)) {
        el.style.width = Math.max(0, Math.min(100, width)) + "%";
      }
    });
  }

  function init(root) {
    applyWidths(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) {
    init(event.target);
  });
})();
