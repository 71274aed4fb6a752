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
  // Controls marked data-autosubmit submit their form when changed (e.g. the timeline's kinds).
  document.addEventListener("change", function (event) {
    var control = event.target;
    if (control.hasAttribute && control.hasAttribute("data-autosubmit") && control.form) {
      control.form.requestSubmit();
    }
  });
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) {
    init(event.target);
  });
})();
