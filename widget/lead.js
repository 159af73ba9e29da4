/*
 * The lead form (concatenated into the chat module by the build, so it loads with the chat window
 * and costs nothing before the visitor opens it). The bot's config says which fields and when:
 * before the first message, or when the server's `done` event or handoff reply carries
 * `lead_form: true`. A known contact (history's `contact`) is never asked.
 *
 * Accessibility: a real <form> with a <label> per control, required fields marked in the label
 * and with `required`, every problem written under its field (aria-invalid + aria-describedby)
 * and focus on the first bad one; everything works from the keyboard (Tab, Space, Enter).
 * The checks are the server's (email, phone); its 400 details land under the same fields.
 */

var LEAD_AUTOCOMPLETE = { name: 'name', email: 'email', phone: 'tel', company: 'organization' };
var LEAD_INPUT_TYPE = { email: 'email', phone: 'tel' };

function leadValueProblem(w, spec, value) {
  if (!value) return spec.required ? w.t.leadRequired.replace('{label}', spec.label) : '';
  // The standard email and phone fields are checked as such whatever type they were given.
  var type = /^(email|phone)$/.test(spec.name) && spec.type === 'text' ? spec.name : spec.type;
  // The server's own patterns (contacts/values.py), so what passes here passes there.
  if (type === 'email' && (value.length > 254 || !/^[^@\s<>"',;]+@[^@\s<>"',;]+\.[^@\s<>"',;.]{2,}$/.test(value))) return w.t.leadEmail;
  if (type === 'phone') {
    var digits = value.replace(/\D/g, '').length;
    if (!/^\+?[0-9 ().-]+$/.test(value) || digits < 6 || digits > 20) return w.t.leadPhone;
  }
  return '';
}

function leadControl(w, spec, id) {
  var control;
  if (spec.type === 'select') {
    control = el('select', 'mp-lead-input');
    var none = control.appendChild(el('option', null, w.t.leadChoose));
    none.value = '';
    (spec.options || []).forEach(function (option) {
      control.appendChild(el('option', null, option)).value = option;
    });
  } else {
    control = el('input', 'mp-lead-input');
    control.type = LEAD_INPUT_TYPE[spec.type] || 'text';
    control.maxLength = spec.type === 'email' ? 254 : spec.name === 'name' ? 200 : 500;
    var auto = LEAD_AUTOCOMPLETE[spec.name];
    if (auto) control.autocomplete = auto;
    if (spec.type === 'email') control.inputMode = 'email';
  }
  control.id = id;
  control.name = spec.name;
  control.required = !!spec.required;
  return control;
}

function leadLabel(w, text, id, required) {
  var label = el('label', 'mp-lead-label', text);
  label.htmlFor = id;
  if (required) {
    var mark = label.appendChild(el('span', 'mp-req', ' *'));
    mark.setAttribute('aria-hidden', 'true');
  }
  return label;
}

function leadField(w, lead, spec, index) {
  var id = 'mp-lead-' + index;
  var row = el('div', 'mp-lead-field');
  row.appendChild(leadLabel(w, spec.label || spec.name, id, spec.required));
  var control = row.appendChild(leadControl(w, spec, id));
  var error = row.appendChild(el('div', 'mp-lead-error'));
  error.id = id + '-error';
  error.hidden = true;
  lead.controls.push({ key: 'fields.' + spec.name, spec: spec, control: control, error: error });
  return row;
}

function leadConsent(w, lead, spec) {
  if (!spec.consentText && !spec.privacyUrl) return;
  var box = el('div', 'mp-lead-consent');
  var url = spec.privacyUrl && safeUrl(spec.privacyUrl);
  if (spec.consentText) {
    var check = box.appendChild(el('input', 'mp-lead-check'));
    check.type = 'checkbox';
    check.id = 'mp-lead-consent';
    check.required = true;
    box.appendChild(leadLabel(w, spec.consentText, check.id, true));
    var error = box.appendChild(el('div', 'mp-lead-error'));
    error.id = 'mp-lead-consent-error';
    error.hidden = true;
    lead.consent = { key: 'consent', control: check, error: error };
    lead.controls.push(lead.consent);
  }
  if (url) {
    var privacy = box.appendChild(el('a', 'mp-lead-privacy', w.t.privacy));
    privacy.href = url;
    privacy.target = '_blank';
    privacy.rel = 'noopener noreferrer';
    privacy.setAttribute('aria-label', w.t.privacy + ' ' + w.t.newTab);
  }
  lead.form.appendChild(box);
}

function setLeadError(item, message) {
  item.error.textContent = message || '';
  item.error.hidden = !message;
  if (message) {
    item.control.setAttribute('aria-invalid', 'true');
    item.control.setAttribute('aria-describedby', item.error.id);
  } else {
    item.control.removeAttribute('aria-invalid');
    item.control.removeAttribute('aria-describedby');
  }
}

function showLeadProblems(w, lead, problems, general) {
  var first = null;
  lead.controls.forEach(function (item) {
    setLeadError(item, problems[item.key]);
    if (problems[item.key] && !first) first = item.control;
  });
  lead.general.textContent = general || '';
  lead.general.hidden = !general;
  if (first) first.focus();
  else if (general) lead.submit.focus();
}

function leadBody(w, lead) {
  var fields = {};
  var problems = {};
  var bad = false;
  lead.controls.forEach(function (item) {
    if (item === lead.consent) {
      if (!item.control.checked) { problems.consent = w.t.leadConsent; bad = true; }
      return;
    }
    var value = item.control.value.trim();
    var problem = leadValueProblem(w, item.spec, value);
    if (problem) { problems[item.key] = problem; bad = true; }
    if (value) fields[item.spec.name] = value;
  });
  return { fields: fields, consent: !!(lead.consent && lead.consent.control.checked), problems: bad ? problems : null };
}

function leadServerProblems(body) {
  var problems = {};
  var details = (body && body.error && body.error.details) || [];
  (Array.isArray(details) ? details : []).forEach(function (item) {
    if (item && item.field) problems[item.field] = item.message || '';
  });
  return problems;
}

function submitLead(w, lead) {
  if (lead.sending) return;
  var body = leadBody(w, lead);
  if (body.problems) return showLeadProblems(w, lead, body.problems);
  showLeadProblems(w, lead, {});
  if (lead.preview) return finishLead(w, lead, w.t.leadThanks + ' ' + w.t.leadPreview);
  lead.sending = true;
  lead.submit.disabled = true;
  var payload = { session_id: ensureSession(w), fields: body.fields, consent: body.consent };
  return post(w, '/lead', payload).then(function (response) {
    if (response.ok) {
      return response.json().then(function (reply) {
        w.contact = { id: reply.contact_id, name: body.fields.name || null, email: body.fields.email || null };
        finishLead(w, lead, w.t.leadThanks);
      });
    }
    return response.clone().json().then(leadServerProblems, function () { return {}; }).then(function (problems) {
      var placed = lead.controls.some(function (item) { return problems[item.key]; });
      if (response.status === 400 && placed) return showLeadProblems(w, lead, problems);
      return httpErrorMessage(w, response).then(function (message) { showLeadProblems(w, lead, {}, message); });
    });
  }, function () {
    showLeadProblems(w, lead, {}, w.t.errorNetwork);
  }).then(function () {
    lead.sending = false;
    lead.submit.disabled = false;
  });
}

function finishLead(w, lead, thanks) {
  hideLead(w);
  addBubble(w, 'system', thanks);
  if (w.isOpen && !w.preview) w.ui.input.focus();
}

function blockComposer(w, blocked) {
  w.leadBlocking = blocked;
  w.ui.input.disabled = blocked;
  w.ui.send.disabled = blocked;
  w.ui.input.placeholder = blocked ? w.t.leadFirst : w.t.placeholder;
  if (w.ui.chips) w.ui.chips.hidden = blocked;
}

function hideLead(w) {
  if (!w.lead) return;
  w.lead.box.remove();
  w.lead = null;
  blockComposer(w, false);
}

function leadWanted(w, reason) {
  var spec = w.config.leadForm;
  // The server repeats lead_form on every answer from the N-th message on: once dismissed on
  // this page, the form stays closed.
  // In the dashboard's preview only the editor's draft is shown.
  if (!spec || w.contact || w.lead || w.leadDismissed || w.identityFailed || w.preview) return null;
  if (reason === 'before_chat' && spec.when !== 'before_chat') return null;
  return spec;
}

// reason: 'before_chat' (on load) or 'server' (done event / handoff reply asked for it).
function showLead(w, reason, spec, preview) {
  spec = spec || leadWanted(w, reason);
  if (!spec || !(spec.fields || []).length) return;
  var inChat = w.isOpen && w.ui.win.contains(w.root.activeElement);
  var typing = w.root.activeElement === w.ui.input && w.ui.input.value;
  hideLead(w);
  var box = el('section', 'mp-lead');
  box.setAttribute('aria-labelledby', 'mp-lead-title');
  box.appendChild(el('h3', 'mp-lead-title', w.t.leadTitle)).id = 'mp-lead-title';
  var form = box.appendChild(el('form', 'mp-lead-form'));
  form.noValidate = true; // our messages, under each field, instead of the browser's bubbles
  var lead = { box: box, form: form, controls: [], consent: null, preview: !!preview, sending: false };
  var required = spec.fields.some(function (f) { return f.required; });
  if (required || spec.consentText) form.appendChild(el('p', 'mp-lead-note', w.t.leadNote));
  spec.fields.forEach(function (field, index) { form.appendChild(leadField(w, lead, field, index)); });
  leadConsent(w, lead, spec);
  lead.general = form.appendChild(el('div', 'mp-lead-general'));
  lead.general.setAttribute('role', 'alert');
  lead.general.hidden = true;
  var buttons = form.appendChild(el('div', 'mp-lead-actions'));
  lead.submit = buttons.appendChild(el('button', 'mp-lead-submit', w.t.leadSend));
  lead.submit.type = 'submit';
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    submitLead(w, lead);
  });
  w.lead = lead;
  w.ui.win.insertBefore(box, w.ui.state);
  blockComposer(w, spec.when === 'before_chat' && (required || !!spec.consentText) && !preview);
  if (!w.leadBlocking) {
    // Asked in the middle of a chat (or with nothing required): the visitor may say no.
    var later = buttons.appendChild(el('button', 'mp-lead-later', w.t.leadLater));
    later.type = 'button';
    later.addEventListener('click', function () {
      w.leadDismissed = !lead.preview;
      hideLead(w);
      w.ui.input.focus();
    });
  }
  // Focus follows only a visitor who is in the chat: an inline widget never pulls focus from the
  // page it sits on (opening the window focuses the form instead: setOpen).
  if (!preview && inChat && !typing) focusLead(w);
}

function focusLead(w) {
  if (w.lead) w.lead.controls[0].control.focus();
}

// The dashboard's editor shows its unsaved form in the preview frame (same origin only).
function listenForPreview(w) {
  window.addEventListener('message', function (event) {
    var data = event.data || {};
    if (event.origin !== location.origin || event.source !== window.parent || data.type !== 'modelpilot:lead-form-preview') return;
    if (data.leadForm) showLead(w, 'preview', data.leadForm, true);
    else hideLead(w);
  });
  window.parent.postMessage({ type: 'modelpilot:preview-ready' }, location.origin);
}
