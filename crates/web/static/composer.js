/* Socializioz — live counters and previews for the post composer.
   The counting rules mirror crates/domain/src/content.rs exactly: change both together (the
   strings in crates/domain/fixtures/text_counts.json are checked against both).
   The form works without this file; the server checks every text again on submit. */
(function () {
  'use strict';

  const URL_WEIGHT = 23;
  const EMOJI_WEIGHT = 2;
  const TLDS = ['com', 'net', 'org', 'edu', 'gov', 'info', 'biz', 'io', 'co', 'dev', 'app', 'ai',
    'tv', 'ly', 'de', 'uk', 'eu', 'fr', 'es', 'nl', 'ch'];
  const DEFAULT_LIMITS = { facebook: 63206, instagram: 2200, tiktok: 2200, x: 280, linkedin: 3000 };

  // Rust's char::is_alphanumeric and char::is_numeric. Built at run time so that an engine
  // without Unicode property escapes still runs the file (with an approximation).
  let ALNUM = { test: (c) => /^[0-9]$/.test(c) || c.toLowerCase() !== c.toUpperCase() };
  let NUMERIC = /^[0-9]$/;
  try {
    [ALNUM, NUMERIC] = [new RegExp('^[\\p{Alphabetic}\\p{N}]$', 'u'), new RegExp('^\\p{N}$', 'u')];
  } catch (e) { /* keep the approximation */ }

  // Text is handled as an array of code points (one string each), like Rust's chars().
  const cp = (c) => (c === undefined ? -1 : c.codePointAt(0));
  const within = (c, lo, hi) => cp(c) >= lo && cp(c) <= hi;
  const isAlnum = (c) => c !== undefined && ALNUM.test(c);
  const isTagChar = (c) => c === '_' || isAlnum(c);
  const isLabel = (c) => c !== undefined && /^[A-Za-z0-9-]$/.test(c);
  const lowerAscii = (c) => (/^[A-Z]$/.test(c) ? c.toLowerCase() : c);
  // Rust's char::is_whitespace (Unicode White_Space).
  const isSpace = (c) => within(c, 0x9, 0xD) || within(c, 0x2000, 0x200A) ||
    [0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000].indexOf(cp(c)) >= 0;
  const isEmoji = (c) => within(c, 0x1F000, 0x1FAFF) || within(c, 0x2600, 0x27BF);
  const isRegional = (c) => within(c, 0x1F1E6, 0x1F1FF);
  const isModifier = (c) => cp(c) === 0xFE0F || within(c, 0x1F3FB, 0x1F3FF) || within(c, 0xE0020, 0xE007F);
  const xCharWeight = (c) => (within(c, 0, 0x10FF) || within(c, 0x2000, 0x200D) ||
    within(c, 0x2010, 0x201F) || within(c, 0x2032, 0x2037) ? 1 : 2);

  // Index just after the emoji starting at `at`, or -1.
  function emojiEnd(cs, at) {
    if (/^[0-9#*]$/.test(cs[at])) {
      let next = at + 1;
      if (cs[next] === '\uFE0F') next++;
      return cs[next] === '\u20E3' ? next + 1 : -1;
    }
    if (!isEmoji(cs[at])) return -1;
    let end = at + 1;
    if (isRegional(cs[at]) && isRegional(cs[end])) end++;
    for (;;) {
      if (isModifier(cs[end])) end++;
      else if (cs[end] === '\u200D' && isEmoji(cs[end + 1])) end += 2;
      else return end;
    }
  }

  // A link runs to the next whitespace or emoji.
  function runEnd(cs, end) {
    while (end < cs.length && !isSpace(cs[end]) && !isEmoji(cs[end])) end++;
    return end;
  }

  // Leaves sentence punctuation after a link out of it.
  function trimEnd(cs, floor, end) {
    const hasOpenParen = cs.slice(floor, end).indexOf('(') >= 0;
    while (end > floor) {
      const last = cs[end - 1];
      if ('.,;:!?\'"'.indexOf(last) < 0 && !(last === ')' && !hasOpenParen)) break;
      end--;
    }
    return end;
  }

  function schemeEnd(cs, at) {
    for (const scheme of ['https://', 'http://']) {
      if (at + scheme.length > cs.length) continue;
      if (!scheme.split('').every((s, k) => lowerAscii(cs[at + k]) === s)) continue;
      const host = at + scheme.length, end = trimEnd(cs, host, runEnd(cs, host));
      return isAlnum(cs[host]) && host < end ? end : -1;
    }
    return -1;
  }

  function bareDomainEnd(cs, at) {
    let end = at, labels = 0, start;
    for (;;) {
      start = end;
      while (isLabel(cs[end])) end++;
      if (end === start) return -1;
      labels++;
      if (!(cs[end] === '.' && isLabel(cs[end + 1]))) break;
      end++;
    }
    if (labels < 2 || TLDS.indexOf(cs.slice(start, end).join('').toLowerCase()) < 0) return -1;
    const next = cs[end];
    if (next === '/') return trimEnd(cs, end, runEnd(cs, end));
    if (next !== undefined && (isAlnum(next) || next === '@' || next === '_')) return -1;
    return end;
  }

  function linkEnd(cs, at) {
    const prev = cs[at - 1];
    if (at > 0 && (isAlnum(prev) || '@#$_./-'.indexOf(prev) >= 0)) return -1;
    const end = schemeEnd(cs, at);
    return end >= 0 ? end : bareDomainEnd(cs, at);
  }

  function xWeightedLength(text) {
    const cs = Array.from(text);
    let total = 0, at = 0, end;
    while (at < cs.length) {
      if ((end = linkEnd(cs, at)) >= 0) { total += URL_WEIGHT; at = end; continue; }
      if ((end = emojiEnd(cs, at)) >= 0) { total += EMOJI_WEIGHT; at = end; continue; }
      if (!(cs[at] === '\r' && cs[at + 1] === '\n')) total += xCharWeight(cs[at]);
      at++;
    }
    return total;
  }

  // The part of a text that is published: without trailing whitespace, as Rust's trim_end
  // (Unicode White_Space; not String.prototype.trimEnd, which also removes U+FEFF and keeps U+0085).
  function published(text) {
    const cs = Array.from(text);
    let end = cs.length;
    while (end > 0 && isSpace(cs[end - 1])) end--;
    return cs.slice(0, end).join('');
  }

  // Rust's str::trim().is_empty().
  const isBlank = (text) => Array.from(text).every(isSpace);

  function hashtagCount(text) {
    const cs = Array.from(text);
    return cs.filter((c, at) => {
      if (c !== '#' || (at > 0 && isTagChar(cs[at - 1]))) return false;
      let end = at + 1, digitsOnly = true;
      for (; isTagChar(cs[end]); end++) if (!NUMERIC.test(cs[end])) digitsOnly = false;
      return end > at + 1 && !digitsOnly;
    }).length;
  }

  const charCount = (text) => Array.from(text).length - (text.match(/\r\n/g) || []).length;
  const byAttr = (name, value) => Array.from(document.querySelectorAll('[' + name + ']'))
    .filter((el) => el.getAttribute(name) === value);

  // A per-platform variant left empty (or only whitespace) means "use the base text", as
  // services::posts::effective_text decides on the server.
  function effectiveText(area) {
    const base = isBlank(area.value) && document.getElementById(area.getAttribute('data-follows') || '');
    return base ? base.value : area.value;
  }

  function render(area) {
    if (!area.id) return;
    const text = effectiveText(area);
    byAttr('data-preview-for', area.id).forEach((el) => { el.textContent = text; });
    const slug = area.getAttribute('data-platform');
    const limit = Number(area.getAttribute('data-limit')) || DEFAULT_LIMITS[slug];
    if (!limit) return;
    const tagLimit = Number(area.getAttribute('data-hashtag-limit')) || 0;
    const sent = published(text);
    const used = slug === 'x' ? xWeightedLength(sent) : charCount(sent), tags = hashtagCount(sent);
    const over = used > limit || (tagLimit > 0 && tags > tagLimit);
    const label = used + ' / ' + limit + (tagLimit > 0 ? ' · hashtags ' + tags + ' / ' + tagLimit : '');
    byAttr('data-counter-for', area.id).forEach((el) => {
      el.textContent = label;
      el.classList.toggle('over', over);
    });
    if (over) area.setAttribute('aria-invalid', 'true');
    else area.removeAttribute('aria-invalid');
  }

  document.addEventListener('DOMContentLoaded', () => {
    const areas = Array.from(document.querySelectorAll('textarea[data-platform]'));
    const watched = new Set(areas);
    areas.forEach((area) => {
      const base = document.getElementById(area.getAttribute('data-follows') || '');
      if (base) watched.add(base);
    });
    watched.forEach((el) => {
      el.addEventListener('input', () => {
        render(el);
        areas.forEach((other) => { if (other !== el && other.getAttribute('data-follows') === el.id) render(other); });
      });
      render(el);
    });
  });
})();
