/*
 * ModelPilot widget loader: the only code a host page downloads before the visitor opens
 * the chat. It reads its options, fetches the bot's public config, draws the launcher in a
 * Shadow DOM and loads the chat window (chat.js) on first open. Budget: a few KB gzipped.
 *
 * Embed: <script src="https://HOST/widget.js" data-bot-id="BOT" async></script>
 * Options (data-* attributes on the tag win over window.ModelPilotConfig):
 *   data-bot-id, data-mode="bubble|inline", data-target="#css-selector" (inline),
 *   data-open="true", data-position="bottom-right|bottom-left", data-theme="auto|light|dark",
 *   data-accent-color="#0a7", and ModelPilotConfig.strings = {sendLabel: "...", ...}.
 * A verified visitor: ModelPilotConfig.identity = "<JWT signed by the host site's server>"; it goes
 * with every request as X-ModelPilot-Identity (the chat module sends it too).
 */
(function () {
  'use strict';

  var CHAT_VERSION = '__CHAT_VERSION__';
  var LAUNCHER_CSS = '__LAUNCHER_CSS__';

  function findScript() {
    var current = document.currentScript;
    if (current && current.src) return current;
    // currentScript is null when the tag was inserted by another script after load.
    var tags = document.querySelectorAll('script[data-bot-id][src*="widget.js"]');
    return tags[tags.length - 1] || null;
  }

  function readOptions(script) {
    var global = window.ModelPilotConfig || {};
    var data = script ? script.dataset : {};
    var options = {};
    var key;
    for (key in global) options[key] = global[key];
    for (key in data) options[key] = data[key];
    options.strings = global.strings || {};
    // The API lives where the script came from, whatever host or path prefix that is.
    options.apiBase = script ? script.src.replace(/\/widget\.js(\?.*)?$/, '') : '';
    return options;
  }

  function isTrue(value) {
    return value === true || value === 'true' || value === '1' || value === '';
  }

  function safeColor(value) {
    // Only plain colour tokens reach the stylesheet: no url(), no ';' smuggling; and only real
    // colours, so a typo ("#12345", "blu") falls back instead of drawing an invisible launcher.
    var plain = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/.test(value || '');
    return plain && (!window.CSS || CSS.supports('color', value)) ? value : '';
  }

  function createHost(options) {
    // A custom element name: host-page rules such as `div { display: none }` do not match it.
    var host = document.createElement('modelpilot-widget');
    host.setAttribute('data-bot-id', options.botId);
    var target = options.mode === 'inline' && options.target;
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    (container || document.body).appendChild(host);
    var root = host.attachShadow({ mode: 'open' });
    var style = document.createElement('style');
    style.textContent = LAUNCHER_CSS;
    root.appendChild(style);
    var frame = document.createElement('div');
    frame.className = 'mp-root';
    root.appendChild(frame);
    return { host: host, root: root, frame: frame, inline: !!container };
  }

  function textOn(color) {
    // Dark text on a light accent (a yellow brand colour), white on anything darker.
    var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
    if (!hex) return '#fff';
    var digits = hex[1].length === 3 ? hex[1].replace(/./g, '$&$&') : hex[1];
    var n = parseInt(digits, 16);
    return 0.299 * (n >> 16) + 0.587 * (n >> 8 & 255) + 0.114 * (n & 255) > 165 ? '#111827' : '#fff';
  }

  function applyLook(frame, config, options) {
    var accent = safeColor(options.accentColor) || safeColor(config.accentColor) || '#4f46e5';
    if (options.accentColor && !safeColor(options.accentColor) && !options.warnedAccent) {
      options.warnedAccent = true;
      console.warn('ModelPilot: data-accent-color "' + options.accentColor + '" is not a colour; using the chatbot\'s colour.');
    }
    frame.style.setProperty('--mp-accent', accent);
    frame.style.setProperty('--mp-on-accent', textOn(accent));
    var position = options.position || config.position || 'bottom-right';
    frame.setAttribute('data-position', position === 'bottom-left' ? 'left' : 'right');
    var theme = options.theme || config.theme || 'auto';
    frame.setAttribute('data-theme', /^(light|dark)$/.test(theme) ? theme : 'auto');
  }

  function createLauncher(frame, label) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'mp-launcher';
    button.setAttribute('aria-label', label);
    button.title = label;
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-haspopup', 'dialog');
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z');
    svg.appendChild(path);
    button.appendChild(svg);
    frame.appendChild(button);
    return button;
  }

  function loadChat(options) {
    var url = options.apiBase + '/widget-chat.js?v=' + CHAT_VERSION;
    return import(url).then(function (module) { return module.default; });
  }

  function configKey(options) {
    return 'modelpilot:' + options.botId + ':config';
  }

  function rememberedConfig(options) {
    try {
      return JSON.parse(window.localStorage.getItem(configKey(options)) || 'null');
    } catch (error) {
      return null; // storage blocked or damaged: draw with the defaults
    }
  }

  function remember(options, config) {
    try {
      if (config) window.localStorage.setItem(configKey(options), JSON.stringify(config));
      else window.localStorage.removeItem(configKey(options));
    } catch (error) {
      // storage blocked: the next visit simply starts from the defaults again
    }
  }

  function explainRefusal(options) {
    // A refused or unknown bot answers without a CORS grant, which the browser reports as a
    // network error. The chat module (served to any origin) tells the two apart: if it can be
    // fetched, the server is up and it is this bot id or this site that it refuses.
    var name = 'ModelPilot: chatbot "' + options.botId + '"';
    return fetch(options.apiBase + '/widget-chat.js?v=' + CHAT_VERSION).then(function () {
      console.error(name + ' cannot be shown on ' + location.origin + ': no published chatbot has this id, or ' +
        'its allowed websites do not include this one. Check data-bot-id and the allowed websites in the dashboard.');
    }, function () {
      console.error(name + ': the chat server at ' + options.apiBase + ' cannot be reached.');
    });
  }

  function fetchConfig(options) {
    var url = options.apiBase + '/api/v1/widget/' + encodeURIComponent(options.botId) + '/config';
    var init = options.identity ? { headers: { 'X-ModelPilot-Identity': options.identity } } : {};
    return fetch(url, init).then(function (response) {
      if (response.ok) return response.json();
      return response.json().catch(function () { return {}; }).then(function (body) {
        var error = body.error || {};
        var reason = error.message || 'HTTP ' + response.status;
        console.error('ModelPilot: chatbot "' + options.botId + '" could not be loaded: ' + reason);
        // A refused sign-in is the visitor's to hear about (the chat window says it), not a
        // reason to hide the chat; it is never remembered as the bot's look.
        return error.code === 'identity_invalid' ? { identityError: reason } : null;
      });
    }, function () {
      return explainRefusal(options).then(function () { return null; });
    }).then(function (config) {
      if (!config || !config.identityError) remember(options, config);
      return config;
    });
  }

  function start(options, request) {
    var parts = createHost(options);
    var ctx = { options: options, config: null, root: parts.root, frame: parts.frame, launcher: null };
    var chat = null;
    function openChat() {
      if (!chat) {
        chat = request.then(function (config) {
          if (!config) throw new Error('ModelPilot: chatbot unavailable');
          return loadChat(options);
        }).then(function (mount) { return mount(ctx); });
        chat.catch(function () { chat = null; });
      }
      return chat.then(function (api) { api.toggle(); });
    }
    // The launcher is drawn at once, in the look remembered from the last visit (or the
    // data-* options): it never waits for the network. The fresh config then restyles it,
    // or removes everything when the bot is unpublished or refuses this site.
    applyLook(parts.frame, rememberedConfig(options) || {}, options);
    if (!parts.inline) {
      ctx.launcher = createLauncher(parts.frame, options.strings.openLabel || 'Open chat');
      ctx.launcher.addEventListener('click', openChat);
      // Fetch the chat window while the pointer is on its way to the button.
      ctx.launcher.addEventListener('pointerenter', function () { loadChat(options).catch(function () {}); });
    }
    request.then(function (config) {
      if (!config) return parts.host.remove();
      ctx.config = config;
      applyLook(parts.frame, config, options);
      if (parts.inline) loadChat(options).then(function (mount) { mount(ctx); });
      else if (isTrue(options.open)) openChat();
    });
  }

  function boot() {
    var options = readOptions(findScript());
    if (options.botId && options.apiBase) start(options, fetchConfig(options));
    else console.error('ModelPilot: the widget script tag needs data-bot-id="YOUR_BOT_ID".');
  }

  if (document.body) boot();
  else document.addEventListener('DOMContentLoaded', boot);
})();
