// gleaner's desk: keyboard shortcuts over the plain HTML forms (every action works without
// this file). j/k move the selection, p picks, x rejects, s snoozes, e edits the blurb,
// / filters.
// Served from /static/ under a CSP without 'unsafe-inline': no inline handlers anywhere.
"use strict";
(function () {
  function items() {
    return Array.prototype.filter.call(document.querySelectorAll("li.item"), function (li) {
      return !li.hidden;
    });
  }
  var current = null;
  function select(li) {
    if (current) current.classList.remove("sel");
    current = li;
    if (li) {
      li.classList.add("sel");
      li.scrollIntoView({ block: "nearest" });
    }
  }
  function move(step) {
    var list = items();
    if (list.length === 0) return;
    var i = list.indexOf(current);
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + step));
    select(list[i]);
  }
  function submit(selector) {
    if (!current) return;
    var form = current.querySelector(selector);
    if (form) form.submit();
  }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(document.activeElement)) {
      if (ev.key === "Escape") document.activeElement.blur();
      return;
    }
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "p": submit("form.pick"); break;
      case "x": submit("form.reject"); break;
      case "s": submit("form.snooze"); break;
      case "e": {
        if (!current) move(0);
        var blurb = current && current.querySelector(".blurb");
        if (blurb) blurb.focus();
        break;
      }
      case "/": {
        var f = document.getElementById("filter");
        if (f) f.focus();
        break;
      }
      default: return;
    }
    ev.preventDefault();
  });
  var filter = document.getElementById("filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      document.querySelectorAll("li.item").forEach(function (li) {
        li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) < 0;
      });
      if (current && current.hidden) select(null);
    });
  }
  document.querySelectorAll("li.item").forEach(function (li) {
    li.addEventListener("click", function () { select(li); });
  });
  // Copy buttons (the draft): shown only when there is script to run them.
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el || !navigator.clipboard) return;
      var done = function () { b.textContent = "Copied"; };
      if (b.getAttribute("data-as") === "html" && window.ClipboardItem) {
        // Rich text for editors that paste HTML (Substack, Buttondown), plain text beside it.
        var item = new ClipboardItem({
          "text/html": new Blob([el.innerHTML], { type: "text/html" }),
          "text/plain": new Blob([el.innerText], { type: "text/plain" }),
        });
        navigator.clipboard.write([item]).then(done);
      } else {
        navigator.clipboard.writeText(el.textContent).then(done);
      }
    });
  });
  // Back from a POST to /#sID: select the story acted on (or the next one).
  if (location.hash.length > 1) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.classList.contains("item")) select(target);
  }
})();
