// keyway dashboard: small progressive enhancements. Every page works
// without this file; with it, copy buttons copy, filters apply on change,
// credential forms show the fields of the chosen type, and the proxy
// form's "New" buttons open dialogs instead of leaving the page.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function $(sel, el) { return (el || document).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }

  // Copy buttons.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input) return;
    var done = function () {
      var label = btn.textContent;
      btn.textContent = "Copied";
      btn.classList.add("copied");
      setTimeout(function () { btn.textContent = label; btn.classList.remove("copied"); }, 1800);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
    } else {
      input.focus();
      input.select();
      try { if (document.execCommand("copy")) done(); } catch (err) { /* selected: the user can copy */ }
    }
  });

  // Selects that apply at once (filters, client switcher). A filter form
  // leaves empty choices out of the URL.
  $$("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () {
      var form = s.form;
      if (form.method.toLowerCase() !== "get") { form.requestSubmit(); return; }
      var params = new URLSearchParams();
      new FormData(form).forEach(function (v, k) { if (v !== "") params.append(k, v); });
      var q = params.toString();
      location.assign(form.getAttribute("action") + (q ? "?" + q : ""));
    });
  });

  // Charts (drawn on the server): a tooltip that follows the pointer, and
  // arrow keys that walk the buckets when the chart has focus. Without
  // this, each bucket's <title> is the browser's own tooltip.
  $$("svg[data-chart]").forEach(function (svg) {
    var box = svg.parentNode, tip = $("[data-tip]", box);
    var buckets = $$(".bucket", svg), active = -1;
    if (!tip || !buckets.length) return;
    tip.setAttribute("aria-live", "polite");
    buckets.forEach(function (b) {
      var t = $("title", b);
      b.setAttribute("data-label", t ? t.textContent : "");
      if (t) t.remove();
    });
    function show(i) {
      if (active >= 0) buckets[active].classList.remove("on");
      active = i;
      var b = buckets[i];
      b.classList.add("on");
      var parts = b.getAttribute("data-label").split(" · ");
      tip.textContent = "";
      var head = document.createElement("strong");
      head.textContent = parts.shift();
      tip.appendChild(head);
      parts.forEach(function (p) { tip.appendChild(document.createTextNode(p)); tip.appendChild(document.createElement("br")); });
      tip.hidden = false;
      var guide = $(".guide", b).getBoundingClientRect(), outer = box.getBoundingClientRect();
      var x = guide.left - outer.left, half = tip.offsetWidth / 2;
      x = Math.max(half, Math.min(outer.width - half, x));
      tip.style.left = x + "px";
      tip.style.top = (guide.top - outer.top - 6) + "px";
    }
    function hide() {
      if (active >= 0) buckets[active].classList.remove("on");
      active = -1;
      tip.hidden = true;
    }
    buckets.forEach(function (b, i) { b.addEventListener("mouseenter", function () { show(i); }); });
    svg.addEventListener("mouseleave", function () { if (document.activeElement !== svg) hide(); });
    svg.addEventListener("blur", hide);
    svg.addEventListener("focus", function () { show(active >= 0 ? active : buckets.length - 1); });
    svg.addEventListener("keydown", function (e) {
      var i = active < 0 ? buckets.length - 1 : active;
      if (e.key === "ArrowLeft") i = Math.max(0, i - 1);
      else if (e.key === "ArrowRight") i = Math.min(buckets.length - 1, i + 1);
      else if (e.key === "Home") i = 0;
      else if (e.key === "End") i = buckets.length - 1;
      else if (e.key === "Escape") { hide(); return; }
      else return;
      e.preventDefault();
      show(i);
    });
  });

  // Repeatable rows (rule checks): "Add a row" copies the last row with
  // the next index instead of reloading the page.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-add-row]");
    if (!btn) return;
    var list = $(".row-list", btn.closest("[data-rows]"));
    var rows = $$("[data-row]", list);
    if (!list || !rows.length) return;
    e.preventDefault();
    var last = rows[rows.length - 1], next = rows.length;
    var row = last.cloneNode(true);
    $$(".error", row).forEach(function (p) { p.remove(); });
    $$(".field", row).forEach(function (f) { f.classList.remove("invalid"); });
    $$("input, select, label", row).forEach(function (el) {
      ["name", "id", "for"].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v) el.setAttribute(a, v.replace(/\[\d+\]|-\d+-/, function (m) { return m[0] === "[" ? "[" + next + "]" : "-" + next + "-"; }));
      });
      if (el.tagName === "LABEL") el.classList.add("visually-hidden");
      if (el.tagName === "INPUT") { el.value = ""; el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); }
      if (el.tagName === "SELECT") el.selectedIndex = 0;
    });
    list.appendChild(row);
    var first = $("input", row);
    if (first) first.focus();
  });

  // Move focus to a form's error summary so screen readers announce it.
  var alertBox = $("[data-focus]");
  if (alertBox) alertBox.focus();

  // Credential type chooser: show the fields of the checked type.
  function showType(formId, type) {
    var form = document.getElementById(formId);
    if (!form) return;
    form.elements.credentialAuthType.value = type;
    $$("[data-auth-type]", form).forEach(function (fs) {
      var on = fs.getAttribute("data-auth-type") === type;
      fs.hidden = !on;
      fs.disabled = !on;
    });
  }
  document.addEventListener("change", function (e) {
    var r = e.target;
    if (r.matches && r.matches("input[data-type-for]")) showType(r.getAttribute("data-type-for"), r.value);
  });

  // The proxy form: limit the component selects to the chosen region.
  var proxyForm = $("[data-proxy-form]");
  function region() {
    if (!proxyForm) return "";
    var el = proxyForm.elements.proxyRegion;
    return el ? el.value : "";
  }
  function filterParts() {
    var rg = region();
    $$("[data-part]", proxyForm).forEach(function (field) {
      var sel = $("select", field), visible = 0;
      $$("option", sel).forEach(function (o) {
        if (!o.value) return;
        var ok = !rg || o.getAttribute("data-region") === rg;
        o.hidden = !ok;
        o.disabled = !ok;
        if (ok) visible++;
        if (!ok && o.selected) sel.value = "";
      });
      var hint = $("[data-empty-hint]", field);
      if (hint) hint.hidden = !rg || visible > 0;
    });
  }
  if (proxyForm) {
    if (proxyForm.elements.proxyRegion && proxyForm.elements.proxyRegion.tagName === "SELECT") {
      proxyForm.elements.proxyRegion.addEventListener("change", filterParts);
    }
    filterParts();
  }

  // "New" buttons open a dialog that creates the part in the proxy's region.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-dialog]");
    if (!btn) return;
    var dlg = document.getElementById(btn.getAttribute("data-dialog"));
    if (!dlg || typeof dlg.showModal !== "function") return; // no dialog support: the plain flow
    e.preventDefault();
    var rg = region();
    if (!rg) {
      var sel = proxyForm.elements.proxyRegion;
      var field = sel.closest(".field");
      field.classList.add("invalid");
      var msg = $("[data-region-needed]", field);
      if (!msg) {
        msg = document.createElement("p");
        msg.className = "error";
        msg.setAttribute("data-region-needed", "");
        msg.setAttribute("role", "alert");
        msg.textContent = "Choose a region first: the new part is created in it.";
        field.appendChild(msg);
      }
      sel.focus();
      return;
    }
    openDialog(dlg, rg);
  });

  function regionLabel(rg) {
    var sel = proxyForm.elements.proxyRegion;
    if (sel && sel.tagName === "SELECT") {
      var o = sel.options[sel.selectedIndex];
      return o ? o.textContent : rg;
    }
    var fixed = $(".fixed", proxyForm);
    return fixed ? fixed.firstChild.textContent.trim() : rg;
  }

  function openDialog(dlg, rg) {
    $$("form[data-inline]", dlg).forEach(function (f) {
      f.reset();
      f.hidden = false;
      clearErrors(f);
    });
    $$("form.type-form", dlg).forEach(function (f) { f.hidden = false; });
    $$("[data-follow-region]", dlg).forEach(function (i) { i.value = rg; });
    var label = $("[data-region-label]", dlg);
    if (label) label.textContent = regionLabel(rg);
    var checked = $("input[data-type-for]:checked", dlg);
    if (checked) showType(checked.getAttribute("data-type-for"), checked.value);
    $("[data-dialog-secret]", dlg).hidden = true;
    var auth = $("[data-dialog-authorize]", dlg);
    if (auth) auth.hidden = true;
    $("[data-dialog-error]", dlg).hidden = true;
    dlg.showModal();
    var first = $("form[data-inline] input:not([type=hidden])", dlg);
    if (first) first.focus();
  }

  // The key leaves the page with the dialog: cleared as it closes (the
  // close event, which also covers Escape, comes a moment later).
  function forgetSecret(dlg) {
    var secret = $("[data-dialog-secret] input", dlg);
    if (secret) secret.value = "";
  }
  document.addEventListener("click", function (e) {
    var c = e.target.closest("[data-close]");
    if (!c) return;
    var dlg = c.closest("dialog");
    if (!dlg) return;
    forgetSecret(dlg);
    dlg.close();
  });
  $$("dialog").forEach(function (dlg) {
    dlg.addEventListener("close", function () { forgetSecret(dlg); });
  });

  function clearErrors(form) {
    $$(".field.invalid", form).forEach(function (f) { f.classList.remove("invalid"); });
    $$("[data-js-error]", form).forEach(function (p) { p.remove(); });
    $$("[aria-invalid]", form).forEach(function (i) { i.removeAttribute("aria-invalid"); });
  }

  function showErrors(form, dlg, body) {
    var first = null;
    Object.keys(body.errors || {}).forEach(function (name) {
      var input = form.elements[name];
      if (input && input.length && !input.tagName) input = input[0];
      if (!input || input.type === "hidden") {
        (body.general = body.general || []).push(body.errors[name]);
        return;
      }
      var field = input.closest(".field");
      field.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
      var p = document.createElement("p");
      p.className = "error";
      p.id = input.id + "-jserror";
      p.setAttribute("data-js-error", "");
      p.textContent = body.errors[name];
      field.appendChild(p);
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + p.id).trim());
      if (!first) first = input;
    });
    var box = $("[data-dialog-error]", dlg);
    var general = body.general || [];
    if (general.length || !first) {
      box.textContent = general.length ? general.join(" ") : (body.message || "That did not work.");
      box.hidden = false;
    }
    if (first) first.focus();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-inline]")) return;
    var dlg = form.closest("dialog");
    if (!dlg) return;
    e.preventDefault();
    clearErrors(form);
    $("[data-dialog-error]", dlg).hidden = true;
    var submit = $("button[type=submit]", form);
    submit.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().then(function (body) { return { status: res.status, body: body }; },
        function () { return { status: res.status, body: { message: "The server answered " + res.status + "." } }; });
    }).then(function (r) {
      submit.disabled = false;
      if (r.status !== 201) { showErrors(form, dlg, r.body); return; }
      created(dlg, r.body);
    }, function () {
      submit.disabled = false;
      showErrors(form, dlg, { message: "keyway could not be reached. Check your connection and try again." });
    });
  });

  // created adds the new part to its select, selects it and, for a
  // generated key, shows the key once before the dialog closes.
  function created(dlg, body) {
    var part = dlg.getAttribute("data-part-dialog");
    var field = $('[data-part="' + part + '"]', proxyForm);
    var sel = $("select", field);
    var opt = document.createElement("option");
    opt.value = body.id;
    opt.textContent = body.label;
    opt.setAttribute("data-region", body.region);
    sel.appendChild(opt);
    sel.value = body.id;
    field.classList.remove("invalid");
    var hint = $("[data-empty-hint]", field);
    if (hint) hint.hidden = true;
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    if (body.authorizationURL) {
      $$("form", dlg).forEach(function (f) { f.hidden = true; });
      var auth = $("[data-dialog-authorize]", dlg);
      var link = $("[data-authorize-link]", auth);
      link.href = body.authorizationURL;
      auth.hidden = false;
      link.focus();
      return;
    }
    if (body.secret) {
      $$("form", dlg).forEach(function (f) { f.hidden = true; });
      var panel = $("[data-dialog-secret]", dlg);
      $("input", panel).value = body.secret;
      panel.hidden = false;
      $("[data-copy]", panel).focus();
      return;
    }
    dlg.close();
    sel.focus();
  }
})();
