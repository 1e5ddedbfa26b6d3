/* Socializioz — small progressive enhancements. Every page works without this file. */
(function () {
  'use strict';

  var SUBMITS = 'button[type="submit"], button:not([type]), input[type="submit"]';

  // 1. Sign-up: preselect the browser's time zone when the form still says UTC.
  function detectTimezone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    document.querySelectorAll('select[data-detect-timezone]').forEach(function (select) {
      var form = select.form;
      var action = form ? (form.getAttribute('action') || '') : '';
      if (select.value !== 'UTC' || !/\/signup$/.test(action)) return;
      var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
      if (known) select.value = zone;
    });
  }

  // 2. Move focus to the error summary so screen readers and keyboards start there.
  function autofocus() {
    var target = document.querySelector('[data-autofocus]');
    if (target) target.focus();
  }

  // 3. Workspace switcher: close on Escape (focus back to summary) or on a click outside.
  function switcher() {
    var details = document.querySelector('nav.switcher details');
    if (!details) return;
    var summary = details.querySelector('summary');
    document.addEventListener('keydown', function (e) {
      if ((e.key === 'Escape' || e.key === 'Esc') && details.open) {
        details.open = false;
        if (summary) summary.focus();
      }
    });
    document.addEventListener('click', function (e) {
      if (details.open && !details.contains(e.target)) details.open = false;
    });
  }

  // 4. Prevent double submission. Buttons are disabled one tick later so the
  //    clicked button's name/value still goes with the request.
  function guardForms() {
    document.addEventListener('submit', function (e) {
      var form = e.target;
      if (!(form instanceof HTMLFormElement) || e.defaultPrevented) return;
      if (form.hasAttribute('data-submitting')) { e.preventDefault(); return; }
      form.setAttribute('data-submitting', '');
      var buttons = form.querySelectorAll(SUBMITS);
      buttons.forEach(function (b) { b.setAttribute('aria-disabled', 'true'); });
      setTimeout(function () {
        buttons.forEach(function (b) { b.disabled = true; });
      }, 0);
    });
    // Coming back through the history cache: make the forms usable again.
    window.addEventListener('pageshow', function (e) {
      if (!e.persisted) return;
      document.querySelectorAll('form[data-submitting]').forEach(function (form) {
        form.removeAttribute('data-submitting');
        form.querySelectorAll(SUBMITS).forEach(function (b) {
          b.disabled = false;
          b.removeAttribute('aria-disabled');
        });
      });
    });
  }

  function init() {
    detectTimezone();
    autofocus();
    switcher();
    guardForms();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
