/* Socializioz — small progressive enhancements. Every page works without this file. */
(function () {
  'use strict';

  var SUBMITS = 'button[type="submit"], button:not([type]), input[type="submit"]';

  // 1. Time zone: sign-up fills in the browser's zone while the field still holds the default;
  //    the profile offers it with a button when it differs from the saved one (a saved choice
  //    is never changed behind the person's back). The server reads a legacy name the browser
  //    may report (Asia/Calcutta) as the current one.
  function detectTimezone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    document.querySelectorAll('input[data-detect-timezone]').forEach(function (input) {
      var mode = input.getAttribute('data-detect-timezone');
      if (input.value === zone || (input.value === 'UTC' && zone === 'Etc/UTC')) return;
      if (mode === 'fill') {
        if (input.value === 'UTC' || input.value === '') input.value = zone;
      } else if (mode === 'offer') {
        var offer = document.createElement('button');
        offer.type = 'button';
        offer.className = 'link detected-zone';
        offer.textContent = 'Use this device\u2019s time zone: ' + zone;
        offer.addEventListener('click', function () {
          input.value = zone;
          offer.remove();
          input.focus();
        });
        input.insertAdjacentElement('afterend', offer);
      }
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
        // Said to screen readers by the live region, and shown where every page shows what
        // was just done (where the plain form's redirect shows it too).
        var saved = banner.getAttribute('data-saved') || '';
        var status = document.getElementById('consent-status');
        if (status) status.textContent = saved;
        var messages = document.querySelector('.messages');
        if (messages && saved) {
          var shown = messages.querySelector('[data-consent-saved]');
          if (!shown) {
            shown = document.createElement('div');
            shown.className = 'flash';
            shown.setAttribute('data-consent-saved', '');
            messages.appendChild(shown);
          }
          shown.textContent = saved;
        }
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

  // Destructive actions (disconnecting an account, deleting a post or a file) ask first. The
  // server sends such a form, sent without confirm=yes, to a page that says what will happen
  // and asks; with script the same words are read from that page into a dialog, and confirming
  // sends the same form with confirm=yes. Anything failing here falls back to that page.
  var ASK_FIRST = /^\/w\/\d+\/(accounts\/\d+\/disconnect|posts\/\d+\/delete|media\/\d+\/delete)$/;

  function askFirst() {
    if (!window.fetch || !window.DOMParser || typeof HTMLDialogElement !== 'function') return;
    // Capture: runs before the double-submit guard, which leaves a prevented submit alone.
    document.addEventListener('submit', function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
      var path = new URL(form.action, window.location.href).pathname;
      if (!ASK_FIRST.test(path) || form.querySelector('input[name="confirm"]')) return;
      event.preventDefault();
      var opener = event.submitter || document.activeElement;
      fetch(path, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        .then(function (response) {
          if (!response.ok) throw new Error('no confirmation page');
          return response.text();
        })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, 'text/html');
          var title = page.querySelector('[data-confirm-title]');
          var lines = page.querySelectorAll('[data-confirm-message] p');
          var yes = page.querySelector('form[data-confirm-form] button[type="submit"]');
          var no = page.querySelector('[data-confirm-cancel]');
          // A page without a confirm button explains why it cannot be done: show the page.
          if (!title || !lines.length || !yes || !no) throw new Error('nothing to confirm here');
          confirmDialog(form, opener, title.textContent, lines, yes.textContent, no.textContent);
        })
        .catch(function () { form.submit(); });
    }, true);
  }

  function confirmDialog(form, opener, heading, lines, yesLabel, noLabel) {
    var dialog = document.createElement('dialog');
    dialog.className = 'confirm-dialog';
    dialog.setAttribute('aria-labelledby', 'confirm-dialog-title');
    dialog.setAttribute('aria-describedby', 'confirm-dialog-text');
    var title = document.createElement('h2');
    title.id = 'confirm-dialog-title';
    title.textContent = heading;
    var text = document.createElement('div');
    text.id = 'confirm-dialog-text';
    Array.prototype.forEach.call(lines, function (line) {
      var p = document.createElement('p');
      p.textContent = line.textContent;
      text.appendChild(p);
    });
    var actions = document.createElement('div');
    actions.className = 'actions';
    var yes = document.createElement('button');
    yes.type = 'button';
    yes.className = 'danger';
    yes.setAttribute('data-confirm-yes', '');
    yes.textContent = yesLabel;
    var no = document.createElement('button');
    no.type = 'button';
    no.className = 'secondary';
    no.setAttribute('data-confirm-no', '');
    no.textContent = noLabel;
    actions.appendChild(yes);
    actions.appendChild(no);
    dialog.appendChild(title);
    dialog.appendChild(text);
    dialog.appendChild(actions);
    var confirmed = false;
    yes.addEventListener('click', function () {
      confirmed = true;
      var field = document.createElement('input');
      field.type = 'hidden';
      field.name = 'confirm';
      field.value = 'yes';
      form.appendChild(field);
      yes.disabled = true;
      no.disabled = true;
      form.submit();
    });
    no.addEventListener('click', function () { dialog.close(); });
    // Escape closes it too; focus goes back to the button that opened it.
    dialog.addEventListener('close', function () {
      if (confirmed) return;
      dialog.remove();
      if (opener && document.contains(opener)) opener.focus();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    // The safe choice has the focus: a stray Enter does not delete anything.
    no.focus();
  }

  function init() {
    detectTimezone();
    autofocus();
    switcher();
    guardForms();
    consentBanner();
    askFirst();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
