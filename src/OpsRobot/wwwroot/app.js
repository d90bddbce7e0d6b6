/*
 * OpsRobot web chat — browser front end.
 *
 * Plain ES2020, no dependencies. Everything lives inside this closure; the only global is
 * window.OpsRobot (shared with markdown.js, which provides OpsRobot.markdown).
 *
 * Structure
 *   api()                 fetch wrapper: JSON in/out, {error} → ApiError, 401 → sign-in form
 *   boot / login / logout view switching between #boot-view, #login-view and #chat-view
 *   rooms                 sidebar list, join / leave / create, the robot DM, unread counters
 *   message cache         per room: messages sorted by id, de-duplicated by id, paging state
 *   rendering             message list with grouping, day separators and inline notices
 *   socket                /api/v1/stream with exponential back-off and catch-up (?after=)
 *   composer              Enter sends (WebSocket, falling back to POST), Shift+Enter newline
 *   account panel         roles, whitelist, linked identities, link codes, sudo confirmations (polled while open)
 */
(() => {
  "use strict";

  const NS = (window.OpsRobot = window.OpsRobot || {});

  const API = "/api/v1";
  const PAGE_SIZE = 50;
  const GROUP_WINDOW_MS = 5 * 60 * 1000;
  const BOTTOM_SLACK_PX = 48;
  const LOAD_OLDER_TRIGGER_PX = 150;
  const COMPOSER_MAX_PX = 168;
  const MAX_CATCH_UP_PAGES = 20;
  const MAX_NOTICES_PER_ROOM = 20;
  const RECONNECT_BASE_MS = 1000;
  const RECONNECT_MAX_MS = 30000;
  const HELLO_GRACE_MS = 3000;
  const DEFAULT_ROBOT_NAME = "opsrobot";
  const STORAGE_PREFIX = "opsrobot.lastRoom";
  const ACCOUNT_POLL_MS = 4000;
  const ACCOUNT_POLL_HIDDEN_MS = 15000;

  // ------------------------------------------------------------------ state

  const state = {
    me: null,
    gen: 0, // bumped on every sign-in / sign-out; async work started earlier checks it and stops
    rooms: new Map(), // name -> room object from the server
    current: null, // name of the open room
    caches: new Map(), // name -> RoomCache (see newCache)
    unread: new Map(), // name -> count
    drafts: new Map(), // name -> unsent composer text
    robotName: DEFAULT_ROBOT_NAME,
    atBottom: true,
    lastSent: null, // { room, text, at } — restored into the composer if the server refuses it
    ws: null,
    wsAttempts: 0,
    wsTimer: 0,
    everOnline: false,
    connection: "reconnecting",
    roomsTimer: 0,
    roomsRetryTimer: 0,
    // Bumped whenever this page changes its own room list (a room made, joined or left): a list asked for
    // before that was read by the server before the change, and must not overwrite it.
    roomsEdits: 0,
    bootTimer: 0,
    noticeSeq: 0,
  };

  /** Derived per-message data (parsed date, rendered HTML), kept off the server objects. */
  const derived = new WeakMap();

  const el = {};

  // ------------------------------------------------------------------ small helpers

  const enc = encodeURIComponent;
  const byId = (a, b) => a.id - b.id;
  const pad2 = (n) => String(n).padStart(2, "0");

  function $(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`OpsRobot: #${id} missing from index.html`);
    return node;
  }

  /** Tiny element builder. attrs: class, text, data-*, aria-*, any attribute; on* = listener. */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  }

  function robotIcon(className) {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const use = document.createElementNS(svgNs, "use");
    use.setAttribute("href", "#robot-logo");
    svg.append(use);
    return svg;
  }

  const storage = {
    key: () => `${STORAGE_PREFIX}:${state.me ? state.me.name : ""}`,
    get() {
      try {
        return window.localStorage.getItem(this.key());
      } catch {
        return null;
      }
    },
    set(value) {
      try {
        window.localStorage.setItem(this.key(), value);
      } catch {
        /* private mode / storage disabled: not worth bothering the user */
      }
    },
    remove() {
      try {
        window.localStorage.removeItem(this.key());
      } catch {
        /* ignore */
      }
    },
  };

  function parseDate(value) {
    if (typeof value !== "string" || !value) return null;
    // .NET may send 7 fractional digits; not every engine parses more than 3.
    const d = new Date(value.replace(/(\.\d{3})\d+/, "$1"));
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function hhmm(d) {
    return d ? `${pad2(d.getHours())}:${pad2(d.getMinutes())}` : "";
  }

  function sameDay(a, b) {
    return !!a && !!b && a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  function dayLabel(d) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (sameDay(d, today)) return "Today";
    if (sameDay(d, yesterday)) return "Yesterday";
    const opts = { weekday: "long", month: "long", day: "numeric" };
    if (d.getFullYear() !== today.getFullYear()) opts.year = "numeric";
    return d.toLocaleDateString(undefined, opts);
  }

  function hue(name) {
    let x = 0;
    for (const ch of name) x = (Math.imul(x, 31) + ch.codePointAt(0)) >>> 0;
    return x % 360;
  }

  function initials(name) {
    const parts = String(name).split(/[\s._-]+/).filter(Boolean);
    if (parts.length >= 2) return (parts[0][0] + parts[1][0]).toUpperCase();
    return (String(name)[0] || "?").toUpperCase();
  }

  function avatar(name, kind, extraClass = "") {
    const node = h("span", { class: `avatar ${extraClass}`.trim(), "aria-hidden": "true" });
    if (kind === "robot") {
      node.classList.add("avatar-robot");
      node.append(robotIcon("avatar-logo"));
    } else {
      node.textContent = initials(name);
      node.style.backgroundColor = `hsl(${hue(String(name))}, 42%, 45%)`;
    }
    return node;
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.name = "ApiError";
      this.status = status;
    }
  }

  function defaultError(status) {
    switch (status) {
      case 400: return "The server rejected the request.";
      case 401: return "You are not signed in.";
      case 403: return "You do not have access to this room.";
      case 404: return "Not found.";
      case 409: return "That already exists.";
      case 413: return "The message is too long.";
      case 429: return "Too many requests. Slow down a little.";
      default:
        return status >= 500
          ? `The server had a problem (HTTP ${status}). Try again in a moment.`
          : `The request failed (HTTP ${status}).`;
    }
  }

  /**
   * Calls the OpsRobot API. Resolves with the parsed JSON body (null for empty bodies);
   * rejects with ApiError(status, message) where message is the server's {"error"} text when
   * present. status 0 means the network failed. A 401 sends the user back to the sign-in
   * form unless redirectOn401 is false.
   */
  async function api(method, path, body, { redirectOn401 = true } = {}) {
    const init = {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body === undefined || body === null ? {} : body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch {
      throw new ApiError(0, "Cannot reach the OpsRobot server. Check your connection and try again.");
    }
    let data = null;
    if (res.status !== 204) {
      const text = await res.text().catch(() => "");
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = null;
        }
      }
    }
    if (!res.ok) {
      const message = data && typeof data.error === "string" && data.error.trim() ? data.error : defaultError(res.status);
      if (res.status === 401 && redirectOn401) sessionEnded();
      throw new ApiError(res.status, message);
    }
    return data;
  }

  // ------------------------------------------------------------------ views

  function showView(name) {
    el.bootView.hidden = name !== "boot";
    el.loginView.hidden = name !== "login";
    el.chatView.hidden = name !== "chat";
  }

  async function boot(attempt = 0) {
    clearTimeout(state.bootTimer);
    showView("boot");
    el.bootText.textContent = "Loading OpsRobot…";
    el.bootRetry.hidden = true;
    let user;
    try {
      user = await api("GET", "/me", null, { redirectOn401: false });
    } catch (e) {
      if (e.status === 401) {
        showLogin();
        return;
      }
      el.bootText.textContent = e.message;
      el.bootRetry.hidden = false;
      state.bootTimer = setTimeout(() => boot(attempt + 1), Math.min(RECONNECT_MAX_MS, 2000 * 2 ** attempt));
      return;
    }
    startChat(user);
  }

  function setLoginError(message) {
    el.loginError.textContent = message || "";
    el.loginError.hidden = !message;
    el.loginUser.setAttribute("aria-invalid", message ? "true" : "false");
    el.loginPassword.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function showLogin(message = "") {
    clearTimeout(state.bootTimer);
    showView("login");
    setLoginError(message);
    el.loginSubmit.disabled = false;
    el.loginSubmit.textContent = "Sign in";
    el.loginPassword.value = "";
    (el.loginUser.value ? el.loginPassword : el.loginUser).focus();
  }

  async function onLoginSubmit(ev) {
    ev.preventDefault();
    if (el.loginSubmit.disabled) return;
    const userName = el.loginUser.value.trim();
    const password = el.loginPassword.value;
    if (!userName || !password) {
      setLoginError(!userName ? "Enter your user name." : "Enter your password.");
      (!userName ? el.loginUser : el.loginPassword).focus();
      return;
    }
    setLoginError("");
    el.loginSubmit.disabled = true;
    el.loginSubmit.textContent = "Signing in…";
    try {
      let user = await api("POST", "/auth/login", { userName, password }, { redirectOn401: false });
      if (!user || typeof user.name !== "string") user = await api("GET", "/me", null, { redirectOn401: false });
      el.loginPassword.value = "";
      startChat(user);
    } catch (e) {
      setLoginError(e.message);
      el.loginPassword.focus();
      el.loginPassword.select();
    } finally {
      el.loginSubmit.disabled = false;
      el.loginSubmit.textContent = "Sign in";
    }
  }

  /** Forgets everything about the signed-in user and stops all background work. */
  function resetSession() {
    state.gen++;
    closeSocket();
    clearTimeout(state.roomsTimer);
    clearTimeout(state.roomsRetryTimer);
    state.me = null;
    state.rooms = new Map();
    state.caches = new Map();
    state.unread = new Map();
    state.drafts = new Map();
    state.current = null;
    state.robotName = DEFAULT_ROBOT_NAME;
    state.everOnline = false;
    state.wsAttempts = 0;
    state.lastSent = null;
    state.atBottom = true;
    el.messageList.replaceChildren();
    el.historyStatus.replaceChildren();
    el.roomList.replaceChildren();
    el.composer.value = "";
    toggleNewRoom(false);
    closeNav();
    closeAccount();
  }

  function startChat(user) {
    resetSession();
    state.me = user;
    showView("chat");
    renderMe();
    renderRoomList();
    renderHeader(null);
    setConnection("reconnecting");
    autoGrow();
    connectSocket();
    loadRoomsAndOpen();
  }

  /** The server says we are not signed in (any more). */
  function sessionEnded() {
    if (!state.me) return;
    resetSession();
    showLogin("Your session has ended. Please sign in again.");
  }

  async function signOut(ev) {
    if (ev) ev.preventDefault();
    const gen = state.gen;
    closeSocket();
    let message = "";
    try {
      await api("POST", "/auth/logout", {}, { redirectOn401: false });
    } catch (e) {
      if (e.status !== 401) message = `Signed out here, but the server could not be told: ${e.message}`;
    }
    if (gen !== state.gen) return;
    resetSession();
    el.loginUser.value = "";
    showLogin(message);
  }

  function renderMe() {
    const me = state.me || {};
    const name = me.name || "";
    const display = me.displayName || name;
    el.meName.textContent = display;
    el.meName.title = me.isAdmin ? `${name} (administrator)` : name;
    const fresh = avatar(name || "?", "user", "avatar-sm");
    fresh.id = "me-avatar";
    el.meAvatar.replaceWith(fresh);
    el.meAvatar = fresh;
  }

  // ------------------------------------------------------------------ rooms

  const isDirect = (room) => !!room && room.kind === "direct";
  const isMember = (room) => !!room && (room.kind === "direct" || room.joined === true);
  const isCurrent = (name) => !!name && state.current === name;

  function directRoom() {
    for (const room of state.rooms.values()) if (isDirect(room)) return room;
    return null;
  }

  function normalizeRoom(room) {
    if (!room || typeof room.name !== "string" || !room.name) return null;
    return {
      id: room.id,
      name: room.name,
      topic: typeof room.topic === "string" ? room.topic : "",
      kind: room.kind === "direct" ? "direct" : "room",
      joined: room.kind === "direct" ? true : room.joined === true,
      memberCount: Number.isFinite(room.memberCount) ? room.memberCount : null,
    };
  }

  function sortedPublicRooms() {
    return [...state.rooms.values()]
      .filter((r) => !isDirect(r))
      .sort((a, b) => Number(b.joined) - Number(a.joined) || a.name.localeCompare(b.name));
  }

  async function loadRooms() {
    const gen = state.gen;
    const edits = state.roomsEdits;
    const list = await api("GET", "/rooms");
    if (gen !== state.gen) return false;
    if (edits !== state.roomsEdits) {
      // Out of date (say, a room made while it was on its way): applying it would close the room just opened.
      scheduleRoomsRefresh(0);
      return false;
    }
    const rooms = new Map();
    for (const raw of Array.isArray(list) ? list : []) {
      const room = normalizeRoom(raw);
      if (room) rooms.set(room.name, room);
    }
    state.rooms = rooms;
    // Drop caches of rooms we are no longer in; they would miss live messages.
    for (const name of [...state.caches.keys()]) {
      if (name !== state.current && !isMember(rooms.get(name))) state.caches.delete(name);
    }
    renderRoomList();
    if (state.current) renderHeader(rooms.get(state.current) || null);
    return true;
  }

  function scheduleRoomsRefresh(delay = 400) {
    clearTimeout(state.roomsTimer);
    const gen = state.gen;
    state.roomsTimer = setTimeout(() => {
      if (gen !== state.gen) return;
      loadRooms().catch(() => {
        /* the next event will try again */
      });
    }, delay);
  }

  async function loadRoomsAndOpen() {
    const gen = state.gen;
    clearTimeout(state.roomsRetryTimer);
    try {
      await loadRooms();
    } catch (e) {
      if (gen !== state.gen || e.status === 401) return;
      showNotice(null, `Could not load the room list: ${e.message} Retrying…`);
      state.roomsRetryTimer = setTimeout(() => {
        if (gen === state.gen) loadRoomsAndOpen();
      }, 5000);
      return;
    }
    if (gen !== state.gen || state.current) return;

    const last = storage.get();
    if (last && isMember(state.rooms.get(last))) {
      openRoom(last);
      return;
    }
    const firstJoined = sortedPublicRooms().find((r) => r.joined);
    if (firstJoined) openRoom(firstJoined.name);
    else openDirect({ unlessARoomIsOpen: true });
  }

  /**
   * Opens the conversation with the robot. The page does so by itself after sign-in (unlessARoomIsOpen): if the
   * person opened a room while the conversation was being fetched, their room stays open.
   */
  async function openDirect({ unlessARoomIsOpen = false } = {}) {
    let room = directRoom();
    if (!room) {
      const gen = state.gen;
      try {
        room = normalizeRoom(await api("GET", "/direct"));
      } catch (e) {
        if (gen === state.gen && e.status !== 401) showNotice(state.current, `Could not open the conversation with ${state.robotName}: ${e.message}`);
        return;
      }
      if (gen !== state.gen || !room) return;
      room.kind = "direct";
      room.joined = true;
      state.rooms.set(room.name, room);
      state.roomsEdits++;
    }
    if (unlessARoomIsOpen && state.current) return;
    openRoom(room.name);
  }

  function saveDraft() {
    if (!state.current) return;
    const text = el.composer.value;
    if (text.trim()) state.drafts.set(state.current, text);
    else state.drafts.delete(state.current);
  }

  async function openRoom(name) {
    const room = state.rooms.get(name);
    if (!room) return;
    if (!isMember(room)) {
      await joinRoom(name);
      return;
    }
    closeNav();
    const cache = getCache(name);
    if (state.current === name && cache.loaded) {
      focusComposer();
      return;
    }
    if (state.current !== name) {
      saveDraft();
      state.current = name;
      el.composer.value = state.drafts.get(name) || "";
      autoGrow();
    }
    storage.set(name);
    state.unread.delete(name);
    renderRoomList();
    renderHeader(room);
    renderAll({ toBottom: true });
    focusComposer();
    if (cache.loaded) await catchUp(name);
    else await loadLatest(name);
  }

  async function joinRoom(name) {
    const gen = state.gen;
    const item = el.roomList.querySelector(`[data-room="${CSS.escape(name)}"]`);
    if (item) item.setAttribute("aria-busy", "true");
    let room;
    try {
      room = normalizeRoom(await api("POST", `/rooms/${enc(name)}/join`, {}));
    } catch (e) {
      if (gen === state.gen && e.status !== 401) showNotice(null, `Could not join #${name}: ${e.message}`);
      if (item) item.removeAttribute("aria-busy");
      return;
    }
    if (gen !== state.gen) return;
    const previous = state.rooms.get(name);
    room = room || { ...previous, memberCount: previous && previous.memberCount !== null ? previous.memberCount + 1 : null };
    room.joined = true;
    state.rooms.set(room.name, room);
    state.roomsEdits++;
    state.caches.delete(room.name);
    await openRoom(room.name);
  }

  async function leaveCurrentRoom() {
    const name = state.current;
    const room = state.rooms.get(name);
    if (!room || isDirect(room)) return;
    const gen = state.gen;
    el.leaveButton.disabled = true;
    try {
      await api("POST", `/rooms/${enc(name)}/leave`, {});
    } catch (e) {
      if (gen === state.gen && e.status !== 401) showNotice(name, `Could not leave #${name}: ${e.message}`);
      return;
    } finally {
      el.leaveButton.disabled = false;
    }
    if (gen !== state.gen) return;
    room.joined = false;
    state.roomsEdits++;
    if (room.memberCount !== null) room.memberCount = Math.max(0, room.memberCount - 1);
    state.caches.delete(name);
    state.unread.delete(name);
    state.drafts.delete(name);
    el.composer.value = "";
    state.current = null;
    if (storage.get() === name) storage.remove();
    const next = sortedPublicRooms().find((r) => r.joined);
    if (next) openRoom(next.name);
    else openDirect();
  }

  // --- new room

  function toggleNewRoom(show) {
    el.newRoomForm.hidden = !show;
    el.newRoomButton.setAttribute("aria-expanded", String(show));
    el.newRoomButton.classList.toggle("is-active", show);
    setNewRoomError("");
    if (show) {
      el.newRoomInput.value = "";
      el.newRoomInput.focus();
    }
  }

  function setNewRoomError(message) {
    el.newRoomError.textContent = message || "";
    el.newRoomError.hidden = !message;
    el.newRoomInput.setAttribute("aria-invalid", message ? "true" : "false");
  }

  let creatingRoom = false;

  async function createRoom() {
    if (creatingRoom) return;
    const name = el.newRoomInput.value.trim().replace(/^#/, "");
    if (!name) {
      setNewRoomError("Type a name for the room.");
      return;
    }
    const gen = state.gen;
    creatingRoom = true;
    el.newRoomForm.setAttribute("aria-busy", "true");
    try {
      const room = normalizeRoom(await api("POST", "/rooms", { name }));
      if (gen !== state.gen) return;
      const created = room || { name, topic: "", kind: "room", joined: true, memberCount: 1 };
      created.joined = true;
      state.rooms.set(created.name, created);
      state.roomsEdits++;
      toggleNewRoom(false);
      await openRoom(created.name);
    } catch (e) {
      if (gen !== state.gen) return;
      setNewRoomError(e.message);
      el.newRoomInput.focus();
    } finally {
      creatingRoom = false;
      el.newRoomForm.removeAttribute("aria-busy");
    }
  }

  // --- sidebar rendering

  function badge(count) {
    return count > 0 ? h("span", { class: "badge", "aria-label": `${count} unread`, text: count > 99 ? "99+" : String(count) }) : null;
  }

  function renderRoomList() {
    const rooms = sortedPublicRooms();
    const frag = document.createDocumentFragment();
    let shownOtherHeader = false;
    for (const room of rooms) {
      if (!room.joined && !shownOtherHeader) {
        shownOtherHeader = true;
        frag.append(h("li", { class: "room-sep", role: "presentation", text: "Other rooms" }));
      }
      const unread = state.unread.get(room.name) || 0;
      const current = isCurrent(room.name);
      const members = room.memberCount === null ? "" : `${room.memberCount} member${room.memberCount === 1 ? "" : "s"}`;
      const title = room.joined
        ? [room.topic, members].filter(Boolean).join(" · ") || `#${room.name}`
        : `Join #${room.name}${members ? ` (${members})` : ""}`;
      const button = h(
        "button",
        {
          type: "button",
          class: `room-link${room.joined ? "" : " is-unjoined"}${current ? " is-current" : ""}${unread ? " has-unread" : ""}`,
          "data-testid": "room-item",
          "data-room": room.name,
          "data-joined": String(room.joined),
          "data-unread": String(unread),
          "aria-current": current ? "page" : null,
          title,
          onclick: () => openRoom(room.name),
        },
        h("span", { class: "room-hash", "aria-hidden": "true", text: "#" }),
        h("span", { class: "room-name", text: room.name }),
        room.joined ? null : h("span", { class: "join-pill", text: "join" }),
        badge(unread),
      );
      frag.append(h("li", null, button));
    }
    if (!rooms.length) {
      frag.append(h("li", { class: "room-empty", text: "No rooms yet. Create one with +." }));
    }
    el.roomList.replaceChildren(frag);

    // The robot DM entry.
    const dm = directRoom();
    const dmUnread = dm ? state.unread.get(dm.name) || 0 : 0;
    el.dmRobotName.textContent = state.robotName;
    if (dm) el.dmRobot.setAttribute("data-room", dm.name);
    else el.dmRobot.removeAttribute("data-room");
    el.dmRobot.classList.toggle("is-current", !!dm && isCurrent(dm.name));
    el.dmRobot.classList.toggle("has-unread", dmUnread > 0);
    if (dm && isCurrent(dm.name)) el.dmRobot.setAttribute("aria-current", "page");
    else el.dmRobot.removeAttribute("aria-current");
    el.dmRobot.setAttribute("data-unread", String(dmUnread));
    el.dmRobot.title = `Direct messages with ${state.robotName}`;
    const oldBadge = el.dmRobot.querySelector(".badge");
    const newBadge = badge(dmUnread) || h("span", { class: "badge", hidden: true });
    oldBadge.replaceWith(newBadge);
  }

  function renderHeader(room) {
    if (!room) {
      el.roomTitle.textContent = "";
      el.roomTitle.removeAttribute("data-room");
      el.roomPrefix.hidden = true;
      el.roomTopic.textContent = "";
      el.leaveButton.hidden = true;
      el.composer.placeholder = "Choose a room";
      el.composer.disabled = true;
      el.sendButton.disabled = true;
      return;
    }
    const direct = isDirect(room);
    el.roomTitle.textContent = direct ? state.robotName : room.name;
    el.roomTitle.setAttribute("data-room", room.name);
    el.roomPrefix.hidden = direct;
    const members = room.memberCount === null ? "" : `${room.memberCount} member${room.memberCount === 1 ? "" : "s"}`;
    el.roomTopic.textContent = direct
      ? `Direct messages with ${state.robotName}. Every line is a command; no ! needed.`
      : [room.topic, members].filter(Boolean).join(" · ");
    el.leaveButton.hidden = direct;
    el.composer.disabled = false;
    el.sendButton.disabled = false;
    el.composer.placeholder = direct
      ? `Message ${state.robotName} — try help`
      : `Message #${room.name} — try !help`;
  }

  function noteRobotName(name) {
    if (typeof name !== "string" || !name || name === state.robotName) return;
    state.robotName = name;
    renderRoomList();
    const room = state.rooms.get(state.current);
    if (isDirect(room)) renderHeader(room);
  }

  // ------------------------------------------------------------------ message cache

  function newCache() {
    return {
      messages: [], // ascending by id
      ids: new Set(),
      notices: [], // { seq, afterId, text }
      loaded: false,
      hasMore: true,
      loadingLatest: false,
      loadingOlder: false,
      olderFailedAt: 0,
      latestFailed: false,
      catchingUp: false,
      catchUpAgain: false,
    };
  }

  function getCache(name) {
    let cache = state.caches.get(name);
    if (!cache) {
      cache = newCache();
      state.caches.set(name, cache);
    }
    return cache;
  }

  const lastId = (cache) => (cache.messages.length ? cache.messages[cache.messages.length - 1].id : null);
  const firstId = (cache) => (cache.messages.length ? cache.messages[0].id : null);

  function normalizeMessage(raw, roomName) {
    if (!raw || typeof raw !== "object") return null;
    const id = typeof raw.id === "string" && /^\d+$/.test(raw.id) ? Number(raw.id) : raw.id;
    if (!Number.isFinite(id)) return null;
    const author = raw.author && typeof raw.author === "object" ? raw.author : {};
    return {
      id,
      room: typeof raw.room === "string" ? raw.room : roomName,
      author: {
        kind: author.kind === "robot" ? "robot" : "user",
        name: typeof author.name === "string" && author.name ? author.name : "unknown",
      },
      text: typeof raw.text === "string" ? raw.text : String(raw.text ?? ""),
      createdAt: raw.createdAt,
    };
  }

  function messagesOf(data, roomName) {
    const list = data && Array.isArray(data.messages) ? data.messages : Array.isArray(data) ? data : [];
    const out = [];
    for (const raw of list) {
      const m = normalizeMessage(raw, roomName);
      if (m) out.push(m);
    }
    return out;
  }

  /**
   * Adds messages to a room cache, skipping ids it already has. Returns the added messages
   * (ascending) and whether they all come after what was there ("append") or the list had
   * to be re-sorted ("reset").
   */
  function merge(cache, messages) {
    const before = lastId(cache);
    const added = [];
    for (const m of messages) {
      if (cache.ids.has(m.id)) continue;
      cache.ids.add(m.id);
      added.push(m);
    }
    if (!added.length) return { added, mode: "none" };
    added.sort(byId);
    for (const m of added) {
      cache.messages.push(m);
      if (m.author.kind === "robot") noteRobotName(m.author.name);
    }
    if (before !== null && added[0].id > before) return { added, mode: "append" };
    cache.messages.sort(byId);
    return { added, mode: "reset" };
  }

  function info(m) {
    let d = derived.get(m);
    if (!d) {
      d = { date: parseDate(m.createdAt), html: null };
      derived.set(m, d);
    }
    return d;
  }

  function htmlOf(m) {
    const d = info(m);
    if (d.html === null) {
      const md = NS.markdown;
      // markdown.js escapes everything it does not turn into one of its own tags.
      try {
        d.html = md ? md.render(m.text) : null;
      } catch {
        d.html = null; // shown as plain text instead
      }
    }
    return d.html;
  }

  // ------------------------------------------------------------------ loading history

  async function loadLatest(name) {
    const cache = getCache(name);
    if (cache.loadingLatest) return;
    cache.loadingLatest = true;
    cache.latestFailed = false;
    const gen = state.gen;
    if (isCurrent(name)) updateHistoryStatus();
    try {
      const data = await api("GET", `/rooms/${enc(name)}/messages?limit=${PAGE_SIZE}`);
      if (gen !== state.gen || state.caches.get(name) !== cache) return;
      const messages = messagesOf(data, name);
      cache.loaded = true;
      cache.hasMore = messages.length >= PAGE_SIZE;
      merge(cache, messages);
      if (isCurrent(name)) renderAll({ toBottom: true });
    } catch (e) {
      if (gen !== state.gen || e.status === 401) return;
      cache.latestFailed = true;
      if (e.status === 403) scheduleRoomsRefresh(0);
      if (isCurrent(name)) showNotice(name, `Could not load messages: ${e.message}`);
    } finally {
      cache.loadingLatest = false;
      if (gen === state.gen && isCurrent(name)) {
        updateHistoryStatus();
        fillViewport();
      }
    }
  }

  async function loadOlder() {
    const name = state.current;
    const cache = name ? state.caches.get(name) : null;
    if (!cache || !cache.loaded || !cache.hasMore || cache.loadingOlder || cache.loadingLatest) return;
    if (!cache.messages.length) return;
    if (Date.now() - cache.olderFailedAt < 5000) return;
    cache.loadingOlder = true;
    updateHistoryStatus();
    const gen = state.gen;
    let ok = false;
    try {
      const data = await api("GET", `/rooms/${enc(name)}/messages?before=${firstId(cache)}&limit=${PAGE_SIZE}`);
      if (gen !== state.gen || state.caches.get(name) !== cache) return;
      const messages = messagesOf(data, name);
      const result = merge(cache, messages);
      // Nothing new (or a short page) means we reached the start of the room.
      cache.hasMore = messages.length >= PAGE_SIZE && result.added.length > 0;
      if (isCurrent(name) && result.mode !== "none") renderAll({ keep: true });
      ok = true;
    } catch (e) {
      if (gen !== state.gen || e.status === 401) return;
      cache.olderFailedAt = Date.now();
      if (isCurrent(name)) showNotice(name, `Could not load older messages: ${e.message}`);
    } finally {
      cache.loadingOlder = false;
      if (gen === state.gen && isCurrent(name)) {
        updateHistoryStatus();
        if (ok) fillViewport();
      }
    }
  }

  /** Keeps loading older pages while the list does not fill the pane (nothing to scroll). */
  function fillViewport() {
    const box = el.messages;
    const cache = state.current ? state.caches.get(state.current) : null;
    if (!cache || !cache.loaded || !cache.hasMore) return;
    if (box.scrollHeight <= box.clientHeight + 4 || box.scrollTop < LOAD_OLDER_TRIGGER_PX) {
      requestAnimationFrame(() => loadOlder());
    }
  }

  /** Fetches everything after the newest message we have for a room (?after=ID). */
  async function catchUp(name) {
    const cache = state.caches.get(name);
    if (!cache) return;
    if (!cache.loaded || !cache.messages.length) {
      await loadLatest(name);
      return;
    }
    if (cache.catchingUp) {
      cache.catchUpAgain = true;
      return;
    }
    cache.catchingUp = true;
    const gen = state.gen;
    try {
      for (let page = 0; ; page++) {
        if (page >= MAX_CATCH_UP_PAGES) {
          // Far behind: start the room over from the latest page instead.
          state.caches.delete(name);
          if (isCurrent(name)) {
            getCache(name);
            renderAll({ toBottom: true });
            await loadLatest(name);
          }
          return;
        }
        const data = await api("GET", `/rooms/${enc(name)}/messages?after=${lastId(cache)}`);
        if (gen !== state.gen || state.caches.get(name) !== cache) return;
        const result = merge(cache, messagesOf(data, name));
        showMerged(name, result, false);
        if (!result.added.length) break;
      }
    } catch (e) {
      if (gen === state.gen && e.status !== 401 && isCurrent(name) && e.status !== 0) {
        showNotice(name, `Could not fetch missed messages: ${e.message}`);
      }
    } finally {
      cache.catchingUp = false;
      if (cache.catchUpAgain && gen === state.gen && state.caches.get(name) === cache) {
        cache.catchUpAgain = false;
        catchUp(name);
      }
    }
  }

  // ------------------------------------------------------------------ rendering messages

  function isOwn(m) {
    return m.author.kind === "user" && !!state.me && m.author.name === state.me.name;
  }

  function canGroup(prev, m) {
    if (!prev) return false;
    if (prev.author.kind !== m.author.kind || prev.author.name !== m.author.name) return false;
    const a = info(prev).date;
    const b = info(m).date;
    if (!a || !b || !sameDay(a, b)) return false;
    const dt = b.getTime() - a.getTime();
    return dt >= 0 && dt < GROUP_WINDOW_MS;
  }

  function daySeparator(date) {
    return h("div", { class: "day-sep", role: "separator" }, h("span", { text: dayLabel(date) }));
  }

  function timeNode(date, className) {
    if (!date) return null;
    return h("time", {
      class: className,
      datetime: date.toISOString(),
      title: date.toLocaleString(),
      text: hhmm(date),
    });
  }

  function messageNode(m, grouped) {
    const robot = m.author.kind === "robot";
    const date = info(m).date;
    const html = htmlOf(m);

    const text = h("div", { class: "msg-text md", "data-testid": "message-text" });
    if (html === null) text.textContent = m.text; // markdown.js failed to load: plain text is still safe
    else text.innerHTML = html;

    const body = h("div", { class: "msg-body" });
    if (!grouped) {
      body.append(
        h(
          "div",
          { class: "msg-meta" },
          h("span", { class: "msg-author", text: m.author.name }),
          robot ? h("span", { class: "bot-badge", text: "BOT" }) : null,
          timeNode(date, "msg-time"),
        ),
      );
    }
    body.append(text);

    const gutter = h("div", { class: "msg-gutter" });
    if (grouped) {
      const t = timeNode(date, "msg-time-hover");
      if (t) gutter.append(t);
    } else {
      gutter.append(avatar(m.author.name, m.author.kind));
    }

    return h(
      "div",
      {
        class: `msg${robot ? " msg-robot" : ""}${grouped ? " msg-grouped" : ""}${isOwn(m) ? " msg-own" : ""}`,
        "data-testid": "message",
        "data-author": m.author.name,
        "data-author-kind": robot ? "robot" : "user",
        "data-message-id": String(m.id),
      },
      gutter,
      body,
    );
  }

  function noticeNode(notice, roomName) {
    const node = h(
      "div",
      { class: "notice notice-error", "data-testid": "notice", role: "alert" },
      h("span", { class: "notice-icon", "aria-hidden": "true", text: "!" }),
      h("span", { class: "notice-text", text: notice.text }),
    );
    const dismiss = h("button", {
      type: "button",
      class: "notice-dismiss",
      "aria-label": "Dismiss",
      title: "Dismiss",
      text: "×",
      onclick: () => {
        const cache = roomName ? state.caches.get(roomName) : null;
        if (cache) cache.notices = cache.notices.filter((n) => n !== notice);
        node.remove();
      },
    });
    node.append(dismiss);
    return node;
  }

  /** Appends nodes for `messages` after `prev` (the message already shown before them). */
  function buildMessages(target, messages, prev, afterNotice) {
    for (const m of messages) {
      const date = info(m).date;
      const prevDate = prev ? info(prev).date : null;
      let breakGroup = afterNotice;
      if (date && (!prev || !prevDate || !sameDay(prevDate, date))) {
        target.append(daySeparator(date));
        breakGroup = true;
      }
      target.append(messageNode(m, !breakGroup && canGroup(prev, m)));
      prev = m;
      afterNotice = false;
    }
  }

  /** Re-renders the open room. toBottom: scroll to the end; keep: keep the visible content in place. */
  function renderAll({ toBottom = false, keep = false } = {}) {
    const box = el.messages;
    const fromBottom = box.scrollHeight - box.scrollTop;
    const wasAtBottom = isAtBottom();
    const name = state.current;
    const cache = name ? state.caches.get(name) : null;
    const frag = document.createDocumentFragment();

    if (cache) {
      const notices = cache.notices;
      let ni = 0;
      let prev = null;
      let afterNotice = false;
      const flushNotices = (limitId) => {
        while (ni < notices.length && (limitId === null || notices[ni].afterId < limitId)) {
          frag.append(noticeNode(notices[ni], name));
          ni++;
          afterNotice = true;
        }
      };
      for (const m of cache.messages) {
        flushNotices(m.id);
        buildMessages(frag, [m], prev, afterNotice);
        prev = m;
        afterNotice = false;
      }
      flushNotices(null);
    }
    el.messageList.replaceChildren(frag);
    updateHistoryStatus();

    if (toBottom || (!keep && wasAtBottom)) scrollToBottom();
    else box.scrollTop = box.scrollHeight - fromBottom;
    if (toBottom) hideJump();
  }

  /** Shows merged messages in the open room: appends when possible, otherwise re-renders. */
  function showMerged(name, result, forceBottom) {
    if (!isCurrent(name) || result.mode === "none") return;
    if (result.mode === "reset") {
      renderAll({ toBottom: forceBottom });
      return;
    }
    const cache = state.caches.get(name);
    const wasAtBottom = isAtBottom();
    const index = cache.messages.length - result.added.length - 1;
    const prev = index >= 0 ? cache.messages[index] : null;
    const last = el.messageList.lastElementChild;
    const afterNotice = !!last && last.classList.contains("notice");
    const frag = document.createDocumentFragment();
    buildMessages(frag, result.added, prev, afterNotice);
    el.messageList.append(frag);
    if (forceBottom || wasAtBottom) scrollToBottom();
    else showJump();
  }

  function updateHistoryStatus() {
    const name = state.current;
    const cache = name ? state.caches.get(name) : null;
    const room = name ? state.rooms.get(name) : null;
    const status = el.historyStatus;
    status.replaceChildren();
    status.className = "history-status";
    if (!cache) return;

    if (cache.loadingLatest || cache.loadingOlder) {
      status.classList.add("is-loading");
      status.append(h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { text: "Loading messages…" }));
      return;
    }
    if (!cache.loaded && cache.latestFailed) {
      status.append(
        h("span", { text: "Messages could not be loaded. " }),
        h("button", { type: "button", class: "link-btn", text: "Try again", onclick: () => loadLatest(name) }),
      );
      return;
    }
    if (cache.loaded && !cache.hasMore) {
      status.classList.add("is-start");
      if (isDirect(room)) {
        status.append(
          h("div", { class: "intro-icon intro-robot", "aria-hidden": "true" }, robotIcon("intro-logo")),
          h("div", { class: "intro-title", text: `This is your conversation with ${state.robotName}.` }),
          h("div", { class: "intro-text", text: "Only you can see it. Every line is a command — type help to see what the robot can do." }),
        );
      } else {
        status.append(
          h("div", { class: "intro-icon", "aria-hidden": "true", text: "#" }),
          h("div", { class: "intro-title", text: `This is the very beginning of #${name}.` }),
          h("div", { class: "intro-text", text: room && room.topic ? room.topic : "Commands start with ! — try !help." }),
        );
      }
    }
  }

  function showNotice(roomName, text) {
    const target = roomName && isCurrent(roomName) ? roomName : state.current;
    const message = roomName && target !== roomName ? `#${roomName}: ${text}` : text;
    if (!target) {
      // No room open yet: show it in the pane without storing it anywhere.
      el.messageList.append(noticeNode({ text: message }, null));
      return;
    }
    const cache = getCache(target);
    const notice = { seq: ++state.noticeSeq, afterId: lastId(cache) ?? -1, text: message };
    cache.notices.push(notice);
    if (cache.notices.length > MAX_NOTICES_PER_ROOM) cache.notices.shift();
    const wasAtBottom = isAtBottom();
    el.messageList.append(noticeNode(notice, target));
    if (wasAtBottom) scrollToBottom();
    else showJump();
  }

  // --- scrolling

  function isAtBottom() {
    const box = el.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
  }

  function scrollToBottom() {
    el.messages.scrollTop = el.messages.scrollHeight;
    state.atBottom = true;
    hideJump();
  }

  function showJump() {
    el.jumpLatest.hidden = false;
  }

  function hideJump() {
    el.jumpLatest.hidden = true;
  }

  function onMessagesScroll() {
    state.atBottom = isAtBottom();
    if (state.atBottom) hideJump();
    if (el.messages.scrollTop < LOAD_OLDER_TRIGGER_PX) loadOlder();
  }

  // ------------------------------------------------------------------ live messages

  function onLiveMessage(roomName, raw) {
    const m = normalizeMessage(raw, roomName);
    if (!m) return;
    const name = typeof roomName === "string" && roomName ? roomName : m.room;
    if (!name) return;
    if (m.author.kind === "robot") noteRobotName(m.author.name);

    const room = state.rooms.get(name);
    if (!isMember(room)) scheduleRoomsRefresh(); // a room we did not know we were in

    const cache = state.caches.get(name);
    if (cache) {
      const result = merge(cache, [m]);
      if (result.mode === "none") return; // already had it
      showMerged(name, result, isOwn(m));
    }
    if (!isCurrent(name) && !isOwn(m)) {
      state.unread.set(name, (state.unread.get(name) || 0) + 1);
      renderRoomList();
    }
  }

  function onErrorFrame(frame) {
    const room = typeof frame.room === "string" && frame.room ? frame.room : state.current;
    const text = typeof frame.error === "string" && frame.error ? frame.error : "The server refused the message.";
    showNotice(room, text);
    // Give the user their text back if the refusal is about what they just sent.
    const sent = state.lastSent;
    if (sent && sent.room === room && Date.now() - sent.at < 15000 && isCurrent(room) && !el.composer.value) {
      el.composer.value = sent.text;
      autoGrow();
      state.lastSent = null;
    }
  }

  // ------------------------------------------------------------------ socket

  function setConnection(kind) {
    state.connection = kind;
    el.connection.setAttribute("data-state", kind);
    const text = kind === "online" ? "Connected" : state.everOnline ? "Reconnecting…" : "Connecting…";
    el.connectionText.textContent = text;
    el.connection.title =
      kind === "online"
        ? "Live updates are on."
        : "The live connection is down. Messages you send are posted directly; new messages appear when it is back.";
  }

  function closeSocket() {
    clearTimeout(state.wsTimer);
    const ws = state.ws;
    state.ws = null;
    if (ws) {
      try {
        ws.close(1000, "client closing");
      } catch {
        /* ignore */
      }
    }
  }

  function connectSocket() {
    clearTimeout(state.wsTimer);
    if (!state.me) return;
    const gen = state.gen;
    const url = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}${API}/stream`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect(gen);
      return;
    }
    state.ws = ws;
    setConnection("reconnecting");

    let ready = false;
    let helloTimer = 0;
    const becomeReady = () => {
      if (ready || state.ws !== ws) return;
      ready = true;
      clearTimeout(helloTimer);
      onConnected();
    };

    ws.addEventListener("open", () => {
      if (state.ws !== ws) return;
      // The hello frame normally arrives at once; do not wait for it forever.
      helloTimer = setTimeout(becomeReady, HELLO_GRACE_MS);
    });
    ws.addEventListener("message", (ev) => {
      if (state.ws !== ws || typeof ev.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      switch (frame.type) {
        case "hello":
          if (frame.user && typeof frame.user === "object" && typeof frame.user.name === "string") {
            state.me = { ...state.me, ...frame.user };
            renderMe();
          }
          becomeReady();
          break;
        case "message":
          onLiveMessage(frame.room, frame.message);
          break;
        case "error":
          onErrorFrame(frame);
          break;
        default:
          break;
      }
    });
    ws.addEventListener("close", () => {
      clearTimeout(helloTimer);
      if (state.ws !== ws) return; // we closed it on purpose
      state.ws = null;
      onSocketClosed(gen);
    });
    // "error" is always followed by "close"; nothing to do here.
  }

  function onConnected() {
    const reconnected = state.everOnline;
    state.everOnline = true;
    state.wsAttempts = 0;
    setConnection("online");
    if (reconnected) {
      // Rooms that are not open may have missed messages while we were away: reload them
      // when they are next opened. The open room is caught up right now.
      for (const name of [...state.caches.keys()]) {
        if (name !== state.current) state.caches.delete(name);
      }
      scheduleRoomsRefresh(0);
    }
    if (state.current) catchUp(state.current);
  }

  async function onSocketClosed(gen) {
    if (gen !== state.gen) return;
    setConnection("reconnecting");
    // Find out whether the socket went away because the session did.
    try {
      await api("GET", "/me", null, { redirectOn401: false });
    } catch (e) {
      if (gen !== state.gen) return;
      if (e.status === 401) {
        sessionEnded();
        return;
      }
    }
    if (gen !== state.gen) return;
    scheduleReconnect(gen);
  }

  function scheduleReconnect(gen) {
    if (gen !== state.gen || !state.me) return;
    clearTimeout(state.wsTimer);
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** state.wsAttempts);
    const delay = Math.min(RECONNECT_MAX_MS, Math.round(base * (0.8 + Math.random() * 0.4)));
    state.wsAttempts = Math.min(state.wsAttempts + 1, 10);
    state.wsTimer = setTimeout(() => {
      if (gen === state.gen && !state.ws) connectSocket();
    }, delay);
  }

  /** The browser says the network is back or the tab is visible again: do not wait for the timer. */
  function reconnectSoon() {
    if (!state.me || state.ws) return;
    state.wsAttempts = 0;
    clearTimeout(state.wsTimer);
    connectSocket();
  }

  // ------------------------------------------------------------------ composer

  function autoGrow() {
    const ta = el.composer;
    const wasAtBottom = isAtBottom();
    ta.style.height = "auto";
    const height = Math.min(ta.scrollHeight, COMPOSER_MAX_PX);
    ta.style.height = `${height}px`;
    ta.style.overflowY = ta.scrollHeight > COMPOSER_MAX_PX ? "auto" : "hidden";
    if (wasAtBottom && !el.chatView.hidden) scrollToBottom();
  }

  function focusComposer() {
    if (el.composer.disabled) return;
    // Do not steal focus from the new-room input or pop up a phone keyboard uninvited.
    if (document.activeElement === el.newRoomInput) return;
    if (window.matchMedia && window.matchMedia("(pointer: coarse)").matches) return;
    el.composer.focus({ preventScroll: true });
  }

  async function sendCurrent() {
    const room = state.current;
    if (!room || el.composer.disabled) return;
    const text = el.composer.value.replace(/\s+$/, "");
    if (!text.trim()) return;

    el.composer.value = "";
    autoGrow();
    state.drafts.delete(room);
    state.lastSent = { room, text, at: Date.now() };
    scrollToBottom();

    const ws = state.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      try {
        ws.send(JSON.stringify({ type: "send", room, text }));
        return;
      } catch {
        /* fall back to HTTP below */
      }
    }

    const gen = state.gen;
    try {
      await api("POST", `/rooms/${enc(room)}/messages`, { text });
    } catch (e) {
      if (gen !== state.gen || e.status === 401) return;
      showNotice(room, e.status === 413 ? e.message : `Message not sent: ${e.message}`);
      if (isCurrent(room) && !el.composer.value) {
        el.composer.value = text;
        autoGrow();
      }
      return;
    }
    if (gen !== state.gen) return;
    // Without the socket nothing pushes the message (or the robot's answer) to us: poll a little.
    catchUp(room);
    for (const delay of [1500, 4000, 10000]) {
      setTimeout(() => {
        if (gen === state.gen && state.connection !== "online" && state.caches.has(room)) catchUp(room);
      }, delay);
    }
  }

  function onComposerKeydown(ev) {
    if (ev.key !== "Enter" || ev.shiftKey || ev.altKey) return;
    if (ev.isComposing || ev.keyCode === 229) return; // IME candidate selection
    ev.preventDefault();
    sendCurrent();
  }

  // ------------------------------------------------------------------ account panel

  /**
   * The Account dialog: what the user may do (roles, whitelist, open elevation), their linked chat identities,
   * one-time link codes, and the sudo requests waiting for their confirmation. While it is open, the access
   * summary and the sudo requests are polled so a request typed in chat (or an identity just linked) shows up.
   */
  const account = {
    timer: 0,
    gen: 0, // bumped on every open and close: answers for an earlier opening are dropped
    seq: 0, // bumped on every refresh: only the newest one renders and schedules the next
    accessKey: "",
    sudoKey: "",
    confirming: new Set(),
    returnFocus: null,
  };

  function isAccountOpen() {
    return !!el.accountPanel && el.accountPanel.open;
  }

  function openAccount() {
    if (!state.me) return;
    if (isAccountOpen()) {
      el.accountTitle.focus();
      return;
    }
    closeNav();
    account.gen++;
    account.returnFocus = document.activeElement;
    account.accessKey = "";
    account.sudoKey = "";
    setAccountError("");
    el.sudoResult.replaceChildren();
    el.linkCodeResult.replaceChildren();
    el.accessSummary.setAttribute("aria-busy", "true");
    el.sudoList.setAttribute("aria-busy", "true");
    el.accountButton.setAttribute("aria-expanded", "true");
    el.accountPanel.showModal();
    el.accountTitle.focus();
    refreshAccount();
  }

  function closeAccount() {
    if (isAccountOpen()) el.accountPanel.close(); // the "close" event does the rest
    else onAccountClosed();
  }

  function onAccountClosed() {
    account.gen++;
    clearTimeout(account.timer);
    account.timer = 0;
    account.confirming.clear();
    el.accountButton.setAttribute("aria-expanded", "false");
    const back = account.returnFocus;
    account.returnFocus = null;
    if (state.me && back && typeof back.focus === "function" && document.contains(back)) back.focus();
  }

  function setAccountError(message) {
    if (el.accountError.textContent === (message || "")) return; // an alert repeated every poll is noise
    el.accountError.textContent = message || "";
    el.accountError.hidden = !message;
  }

  /** Loads the access summary and the sudo requests, then schedules the next poll while the panel stays open. */
  async function refreshAccount() {
    const gen = account.gen;
    const seq = ++account.seq;
    clearTimeout(account.timer);
    const results = await Promise.allSettled([api("GET", "/me/access"), api("GET", "/me/elevations")]);
    // A later refresh (after a confirmation, say) supersedes this one and keeps the only polling timer.
    if (gen !== account.gen || seq !== account.seq || !isAccountOpen()) return;
    const [access, elevations] = results;
    const errors = [];
    if (access.status === "fulfilled") renderAccess(access.value || {});
    else if (access.reason.status !== 401) errors.push(`Could not load your access: ${access.reason.message}`);
    if (elevations.status === "fulfilled") renderSudoRequests(Array.isArray(elevations.value) ? elevations.value : []);
    else if (elevations.reason.status !== 401) errors.push(`Could not load your sudo requests: ${elevations.reason.message}`);
    setAccountError(errors.join(" ")); // cleared again as soon as a poll succeeds
    account.timer = setTimeout(() => {
      if (gen === account.gen && isAccountOpen()) refreshAccount();
    }, document.visibilityState === "hidden" ? ACCOUNT_POLL_HIDDEN_MS : ACCOUNT_POLL_MS);
  }

  /** A date and time for people: "14:35", or "21 Nov 14:35" when it is not today. */
  function accountWhen(value) {
    const d = parseDate(value);
    if (!d) return "";
    if (sameDay(d, new Date())) return hhmm(d);
    return `${d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })} ${hhmm(d)}`;
  }

  function accountTime(value, attrs) {
    const d = parseDate(value);
    return h("time", { ...attrs, datetime: d ? d.toISOString() : null, title: d ? d.toLocaleString() : null, text: accountWhen(value) || "unknown" });
  }

  function renderAccess(access) {
    const key = JSON.stringify(access);
    if (key === account.accessKey) return; // unchanged: do not disturb a screen reader or a selection
    account.accessKey = key;
    el.accessSummary.removeAttribute("aria-busy");

    el.accessUser.textContent = typeof access.user === "string" ? access.user : "";

    const roles = Array.isArray(access.roles) ? access.roles.filter((r) => typeof r === "string") : [];
    el.accessRoles.replaceChildren(
      ...(roles.length
        ? roles.map((r) => h("span", { class: "chip", "data-testid": "access-role", text: r }))
        : [h("span", { class: "muted", text: "No roles" })]),
    );

    el.accessAdmin.replaceChildren(
      access.administrator === true
        ? h("span", { class: "chip chip-ok", text: "Yes: administrative changes are allowed" })
        : h("span", { class: "muted", text: "No" }),
    );
    el.accessAdmin.dataset.administrator = String(access.administrator === true);

    const until = parseDate(access.elevationUntil);
    el.accessElevation.dataset.open = String(!!until);
    el.accessElevation.replaceChildren(
      ...(until
        ? [h("span", { class: "chip chip-warn", text: "Open" }), " until ", accountTime(access.elevationUntil, { "data-testid": "elevation-until" })]
        : [h("span", { class: "muted", text: "None open" })]),
    );

    if (Array.isArray(access.keyScope) && access.keyScope.length) {
      el.accessUser.append(h("span", { class: "muted", text: ` (limited by this key to ${access.keyScope.join(", ")})` }));
    }

    const identities = Array.isArray(access.identities) ? access.identities : [];
    const items = [];
    for (const i of identities) {
      if (!i || typeof i.platform !== "string" || typeof i.platformUserId !== "string") continue;
      const shown = typeof i.displayName === "string" && i.displayName && i.displayName !== i.platformUserId ? i.displayName : "";
      items.push(
        h(
          "li",
          { class: "identity", "data-testid": "identity", "data-platform": i.platform, "data-platform-user-id": i.platformUserId },
          h("span", { class: "chip", text: i.platform }),
          h("code", { class: "identity-id", text: i.platformUserId }),
          shown ? h("span", { class: "identity-name", text: shown }) : null,
          i.linkedAt ? h("span", { class: "muted identity-when" }, "linked ", accountTime(i.linkedAt)) : null,
        ),
      );
    }
    if (!items.length) items.push(h("li", { class: "account-empty", text: "No chat identity is linked yet." }));
    el.identityList.replaceChildren(...items);
  }

  let askingLinkCode = false;

  async function requestLinkCode() {
    if (askingLinkCode) return;
    const gen = account.gen;
    askingLinkCode = true;
    el.linkCodeButton.disabled = true;
    el.linkCodeResult.setAttribute("aria-busy", "true");
    try {
      const answer = await api("POST", "/me/link-code", {});
      if (gen !== account.gen) return;
      const code = answer && typeof answer.code === "string" ? answer.code : "";
      if (!/^\d{4,12}$/.test(code)) throw new ApiError(500, "The server answered without a usable code. Try again.");
      // The server's "say" is the whole line to type, with the server's command prefix.
      const say = typeof answer.say === "string" && answer.say.trim() ? answer.say.trim() : `!link ${code}`;
      renderLinkCode(code, say, answer.expiresAt);
      el.linkCodeButton.textContent = "Get a new code";
    } catch (e) {
      if (gen !== account.gen || e.status === 401) return;
      el.linkCodeResult.replaceChildren(h("p", { class: "account-error", "data-testid": "link-code-error", text: `No code: ${e.message}` }));
    } finally {
      askingLinkCode = false;
      el.linkCodeButton.disabled = false;
      el.linkCodeResult.removeAttribute("aria-busy");
    }
  }

  function renderLinkCode(code, say, expiresAt) {
    const copied = h("span", { class: "copy-status", "data-testid": "link-copy-status", "aria-live": "polite" });
    const line = h("code", { class: "link-say", "data-testid": "link-say", text: say });
    const copy = h("button", {
      type: "button",
      class: "btn btn-ghost btn-sm",
      "data-testid": "link-copy",
      "aria-label": `Copy ${say}`,
      text: "Copy",
      onclick: () => copyText(say, line, copied),
    });
    el.linkCodeResult.replaceChildren(
      h("p", { class: "link-code-value", "data-testid": "link-code", text: code }),
      h("div", { class: "link-row" }, h("span", { text: "Say" }), line, copy, copied),
      h(
        "p",
        { class: "muted" },
        "to the robot on the chat system you want to link (in a direct message to it, ",
        h("code", { text: say.slice(1) }),
        " is enough). Works once, until ",
        accountTime(expiresAt, { "data-testid": "link-expires" }),
        ".",
      ),
    );
  }

  async function copyText(text, source, status) {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) {
      // No clipboard API (plain HTTP on another host): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    status.textContent = ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  }

  function sudoPlace(request) {
    const room = typeof request.room === "string" && request.room ? request.room : "?";
    const shown = request.room && !room.startsWith("#") && !room.startsWith("@") ? `#${room}` : room;
    return typeof request.platform === "string" && request.platform ? `${shown} on ${request.platform}` : shown;
  }

  function renderSudoRequests(list) {
    const requests = list.filter((r) => r && Number.isSafeInteger(r.id) && typeof r.command === "string");
    const key = JSON.stringify(requests) + [...account.confirming].join(",");
    el.sudoList.removeAttribute("aria-busy");
    if (key === account.sudoKey) return; // unchanged: keep focus where it is
    account.sudoKey = key;
    const hadFocus = el.sudoList.contains(document.activeElement) ? document.activeElement.dataset.requestId : null;

    const items = requests.map((r) => {
      const busy = account.confirming.has(r.id);
      const place = sudoPlace(r);
      return h(
        "li",
        { class: "sudo-item", "data-testid": "sudo-request", "data-request-id": r.id },
        h(
          "div",
          { class: "sudo-main" },
          h("code", { class: "sudo-command", "data-testid": "sudo-command", text: r.command }),
          h("div", { class: "muted sudo-meta" }, `#${r.id} · in `, h("span", { "data-testid": "sudo-room", text: place }), " · expires ", accountTime(r.expiresAt)),
        ),
        h("button", {
          type: "button",
          class: "btn btn-primary btn-sm",
          "data-testid": "sudo-confirm",
          "data-request-id": r.id,
          "aria-label": `Confirm sudo request #${r.id}: ${r.command} in ${place}`,
          "aria-busy": busy ? "true" : null,
          disabled: busy,
          text: busy ? "Confirming…" : "Confirm",
          onclick: () => confirmSudo(r),
        }),
      );
    });
    if (!items.length) items.push(h("li", { class: "account-empty", "data-testid": "sudo-empty", text: "No sudo requests are waiting." }));
    el.sudoList.replaceChildren(...items);
    if (hadFocus) {
      const again = el.sudoList.querySelector(`button[data-request-id="${CSS.escape(hadFocus)}"]`);
      if (again && !again.disabled) again.focus();
      else el.sudoResult.focus();
    }
  }

  async function confirmSudo(request) {
    if (account.confirming.has(request.id)) return;
    const gen = account.gen;
    account.confirming.add(request.id);
    account.sudoKey = "";
    const button = el.sudoList.querySelector(`button[data-request-id="${request.id}"]`);
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = "Confirming…";
    }
    let message;
    try {
      const answer = await api("POST", `/me/elevations/${enc(String(request.id))}/confirm`, {});
      const ran = answer && typeof answer.ran === "string" ? answer.ran : request.command;
      const room = answer && typeof answer.room === "string" && answer.room ? answer.room : request.room;
      message = h(
        "p",
        { class: "sudo-done", "data-testid": "sudo-ran" },
        "Confirmed. Ran ",
        h("code", { text: ran }),
        " in ",
        h("strong", { text: sudoPlace({ room, platform: request.platform }) }),
        ". The answer appears in that room.",
      );
    } catch (e) {
      if (e.status === 401) return;
      message = h("p", { class: "account-error", "data-testid": "sudo-error", text: `Request #${request.id} was not confirmed: ${e.message}` });
    } finally {
      account.confirming.delete(request.id);
    }
    if (gen !== account.gen || !isAccountOpen()) return;
    el.sudoResult.replaceChildren(message);
    // The button is about to go away: give keyboard and screen reader users the outcome instead.
    el.sudoResult.focus();
    refreshAccount();
  }

  // ------------------------------------------------------------------ narrow screens

  function openNav() {
    el.chatView.classList.add("nav-open");
    el.scrim.hidden = false;
    el.navToggle.setAttribute("aria-expanded", "true");
  }

  function closeNav() {
    if (!el.chatView) return;
    el.chatView.classList.remove("nav-open");
    el.scrim.hidden = true;
    el.navToggle.setAttribute("aria-expanded", "false");
  }

  // ------------------------------------------------------------------ wiring

  function init() {
    el.bootView = $("boot-view");
    el.bootText = $("boot-text");
    el.bootRetry = $("boot-retry");
    el.loginView = $("login-view");
    el.loginForm = $("login-form");
    el.loginUser = $("login-user");
    el.loginPassword = $("login-password");
    el.loginSubmit = $("login-submit");
    el.loginError = $("login-error");
    el.chatView = $("chat-view");
    el.meAvatar = $("me-avatar");
    el.meName = $("me-name");
    el.signOut = $("sign-out");
    el.newRoomButton = $("new-room-button");
    el.newRoomForm = $("new-room-form");
    el.newRoomInput = $("new-room-input");
    el.newRoomError = $("new-room-error");
    el.roomList = $("room-list");
    el.dmRobot = $("dm-robot");
    el.dmRobotName = $("dm-robot-name");
    el.navToggle = $("nav-toggle");
    el.scrim = $("scrim");
    el.roomPrefix = $("room-prefix");
    el.roomTitle = $("room-title");
    el.roomTopic = $("room-topic");
    el.connection = $("connection");
    el.connectionText = el.connection.querySelector(".connection-text");
    el.leaveButton = $("leave-room");
    el.messages = $("messages");
    el.historyStatus = $("history-status");
    el.messageList = $("message-list");
    el.jumpLatest = $("jump-latest");
    el.composerForm = $("composer-form");
    el.composer = $("composer");
    el.sendButton = $("send-button");
    el.accountButton = $("account-button");
    el.accountPanel = $("account-panel");
    el.accountTitle = $("account-title");
    el.accountClose = $("account-close");
    el.accountError = $("account-error");
    el.accessSummary = $("access-summary");
    el.accessUser = $("access-user");
    el.accessRoles = $("access-roles");
    el.accessAdmin = $("access-admin");
    el.accessElevation = $("access-elevation");
    el.identityList = $("identity-list");
    el.linkCodeButton = $("link-code-button");
    el.linkCodeResult = $("link-code-result");
    el.sudoResult = $("sudo-result");
    el.sudoList = $("sudo-list");

    el.loginForm.addEventListener("submit", onLoginSubmit);
    el.bootRetry.addEventListener("click", () => boot());
    el.signOut.addEventListener("click", signOut);
    el.accountButton.addEventListener("click", openAccount);
    el.accountClose.addEventListener("click", closeAccount);
    el.accountPanel.addEventListener("close", onAccountClosed);
    // A click on the backdrop (outside the panel's box) closes it, like Esc.
    el.accountPanel.addEventListener("click", (ev) => {
      if (ev.target !== el.accountPanel) return;
      const r = el.accountPanel.getBoundingClientRect();
      if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) closeAccount();
    });
    el.linkCodeButton.addEventListener("click", requestLinkCode);

    el.newRoomButton.addEventListener("click", () => toggleNewRoom(el.newRoomForm.hidden));
    el.newRoomForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      createRoom();
    });
    el.newRoomInput.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        toggleNewRoom(false);
        focusComposer();
      } else if (ev.key === "Enter" && !ev.isComposing) {
        ev.preventDefault();
        createRoom();
      }
    });
    el.newRoomInput.addEventListener("input", () => setNewRoomError(""));

    el.dmRobot.addEventListener("click", () => openDirect());
    el.leaveButton.addEventListener("click", leaveCurrentRoom);
    el.navToggle.addEventListener("click", () => (el.chatView.classList.contains("nav-open") ? closeNav() : openNav()));
    el.scrim.addEventListener("click", closeNav);

    el.messages.addEventListener("scroll", onMessagesScroll, { passive: true });
    el.jumpLatest.addEventListener("click", () => {
      scrollToBottom();
      focusComposer();
    });

    el.composerForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      sendCurrent();
    });
    el.composer.addEventListener("keydown", onComposerKeydown);
    el.composer.addEventListener("input", () => {
      autoGrow();
      if (state.current) {
        if (el.composer.value) state.drafts.set(state.current, el.composer.value);
        else state.drafts.delete(state.current);
      }
    });

    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && el.chatView.classList.contains("nav-open")) closeNav();
    });

    // Keep the newest message in view when the pane changes size (window resize, composer growth).
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => {
        if (state.atBottom) el.messages.scrollTop = el.messages.scrollHeight;
      });
      ro.observe(el.messages);
    }

    window.addEventListener("online", reconnectSoon);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") reconnectSoon();
    });

    boot();
  }

  NS.version = "1";

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init, { once: true });
  else init();
})();
