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

  // Cookie banner: focus moves into it when it appears and back where it was when it goes;
  // a choice is saved without reloading the page, and the tags it allows are loaded at once.
  // Without script, the same forms post and come back to the page.
  function consentBanner() {
    var banner = document.querySelector('[data-consent-banner]');
    if (!banner) return;
    var before = document.activeElement;
    // Focus goes to the banner's heading, never to a button: a stray Enter must not decide.
    var heading = banner.querySelector('#consent-title');
    if (heading && !document.querySelector('[data-autofocus]')) heading.focus();
    banner.addEventListener('submit', function (event) {
      var form = event.target;
      if (!window.fetch || !window.FormData) return;
      event.preventDefault();
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      fetch(form.action, {
        method: 'POST',
        headers: { 'Accept': 'application/json' },
        body: new URLSearchParams(data),
        credentials: 'same-origin'
      }).then(function (response) {
        if (!response.ok) throw new Error('consent not saved');
        return response.json();
      }).then(function (answer) {
        (answer.tags || []).forEach(function (src) {
          var tag = document.createElement('script');
          tag.src = src;
          tag.defer = true;
          document.head.appendChild(tag);
        });
        var status = document.getElementById('consent-status');
        if (status) status.textContent = banner.getAttribute('data-saved') || '';
        banner.remove();
        var target = before && before !== document.body && document.contains(before) ? before : document.getElementById('main');
        if (target) target.focus();
      }).catch(function () {
        // Fall back to the plain form, which always works (keeping the button's choice).
        if (submitter && submitter.name) {
          var keep = document.createElement('input');
          keep.type = 'hidden';
          keep.name = submitter.name;
          keep.value = submitter.value;
          form.appendChild(keep);
        }
        form.submit();
      });
    });
  }

  function init() {
    detectTimezone();
    autofocus();
    switcher();
    guardForms();
    consentBanner();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
