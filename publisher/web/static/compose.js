/* The compose page's live preview (publisher web).  Without this file the page still works:
   the "Preview" button re-renders the whole page.  No library, no inline code (the CSP forbids it).
   - shows the channels of the chosen policy's agency and the variables of the chosen template
     (the others are hidden and disabled, so they are not sent);
   - on input/change, waits 400 ms, POSTs the form to data-preview with the X-CSRF-Token header
     and swaps the HTML fragment it gets into #compose-preview; only the latest answer is shown. */
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  var target = document.getElementById("compose-preview");
  if (!form || !target || !window.fetch || !window.FormData) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var latest = 0;

  function show(element, on) {
    element.hidden = !on;
    element.querySelectorAll("input, textarea").forEach(function (field) { field.disabled = !on; });
  }

  function sync() {
    var policy = form.querySelector("#policy");
    var option = policy && policy.options[policy.selectedIndex];
    var agency = option ? option.getAttribute("data-agency") : "";
    form.querySelectorAll(".compose-channel[data-agency]").forEach(function (box) {
      show(box, box.getAttribute("data-agency") === agency);
    });
    var template = form.querySelector("#template").value;
    form.querySelectorAll(".compose-variable[data-templates]").forEach(function (box) {
      show(box, box.getAttribute("data-templates").split(" ").indexOf(template) >= 0);
    });
  }

  function mark() {
    form.querySelectorAll("[aria-invalid]").forEach(function (field) { field.removeAttribute("aria-invalid"); });
    target.querySelectorAll("[data-field]").forEach(function (item) {
      var field = document.getElementById(item.getAttribute("data-field"));
      if (field) { field.setAttribute("aria-invalid", "true"); }
    });
  }

  function refresh() {
    var mine = ++latest;
    target.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-preview"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRF-Token": token }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      if (mine !== latest) { return; }
      target.innerHTML = html;
      mark();
    }).catch(function (problem) {
      if (mine !== latest) { return; }
      var note = document.createElement("p");
      note.className = "error";
      note.textContent = (target.getAttribute("data-failed") || "%s").replace("%s", problem.message);
      target.replaceChildren(note);
    }).finally(function () {
      if (mine === latest) { target.removeAttribute("aria-busy"); }
    });
  }

  function later() {
    sync();
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  sync();
  form.addEventListener("input", later);
  form.addEventListener("change", later);
}());
