// Progressive conveniences for the server-rendered page; everything works without them.
// Never builds markup from data: only textContent and attributes are set.
(function () {
  "use strict";

  function setup() {
    var form = document.getElementById("export-form");
    if (!form) return;
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll('input.select-box[form="export-form"]'));
    var count = document.getElementById("selected-count");
    var exportSelected = document.getElementById("export-selected");
    var selectAll = document.getElementById("select-all");

    function selected() {
      return boxes.filter(function (b) { return b.checked; }).length;
    }

    var live = document.getElementById("selection-live");

    function refresh(announce) {
      var n = selected();
      // Polite announcement of the selection for screen readers.
      if (announce && live) live.textContent = n === 0 ? "No records selected" : n + " selected";
      if (count) count.textContent = String(n);
      if (exportSelected) exportSelected.disabled = n === 0;
      if (selectAll) {
        var all = n === boxes.length && boxes.length > 0;
        selectAll.textContent = all ? "Clear selection" : "Select all on this page";
        selectAll.setAttribute("aria-pressed", all ? "true" : "false");
      }
    }

    boxes.forEach(function (b) { b.addEventListener("change", function () { refresh(true); }); });
    if (selectAll) {
      selectAll.hidden = false;
      selectAll.addEventListener("click", function () {
        var target = selected() !== boxes.length;
        boxes.forEach(function (b) { b.checked = target; });
        refresh(true);
      });
    }
    refresh(false);
  }

  function focusShortcut() {
    // "/" jumps to the search box, as on many search sites (not while typing in a field).
    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
      var q = document.getElementById("q");
      if (q) { e.preventDefault(); q.focus(); q.select(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setup(); focusShortcut(); });
  } else {
    setup(); focusShortcut();
  }
})();
