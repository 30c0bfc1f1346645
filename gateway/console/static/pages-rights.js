import { api, apiIfServed } from './api.js';
import { actionButton, el, form, table } from './dom.js';

const METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const SUBJECT_TYPES = { SUBSYSTEM: 'subsystem', LOCALGROUP: 'local group', GLOBALGROUP: 'global group' };
const time = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
/** X-Road's "Registration in progress": central has the request, the polled configuration does not carry it yet. */
const IN_PROGRESS_TITLE = 'central has the request; the global configuration this gateway polled does not carry it yet';

/**
 * What central answered a signed request: applied (the configuration will carry it), or waiting
 * for an approver; `here` says what took effect on this gateway at once (a reduction). An answer
 * without a request (nothing went to central) says its status as it is.
 */
export function centralAnswer(what, r, here = '') {
  const attrs = { class: 'token central-answer', role: 'status', 'data-status': r.status ?? '' };
  if (r.requestId === undefined) return el('p', attrs, `${what}: ${r.status ?? 'done'}.`);
  const waiting = r.status === 'waiting for approval';
  return el(
    'p',
    attrs,
    `${what}: ${here ? `${here}; ` : ''}request ${r.requestId} sent to central, `,
    el('span', { class: 'pending', text: r.status }),
    waiting ? " — central's administrator decides." : ' until the global configuration carries it.',
  );
}

/** A reduction (a revocation, a member removed): denied here at once; what central said of the removal. */
function withdrawalAnswer(what, r) {
  const central =
    r.central === 'recorded'
      ? `central recorded the removal (request ${r.requestId}).`
      : r.central === 'refused'
        ? `central refused the removal: ${r.reason}. The entry stays and keeps denying.`
        : `central did not answer (${r.reason ?? 'unreachable'}): the removal is sent again each poll.`;
  return el('p', { class: 'token central-answer', role: 'status', 'data-central': r.central ?? '' }, `${what}: denied here now; ${central}`);
}

/** The notice a page shows once, on its next rendering. */
function takeNotice(state, key) {
  const notice = state[key] ?? '';
  state[key] = undefined;
  return notice;
}

const rightKey = (r) => JSON.stringify([r.service, r.subject, r.method, r.path]);
const rightBody = (r) => ({ service: r.service, subject: r.subject, method: r.method, path: r.path, ...(r.subjectType && r.subjectType !== 'SUBSYSTEM' ? { subjectType: r.subjectType } : {}) });

/** One row per right: those the configuration carries, the withdrawals it may not carry any more, and the adds it does not carry yet. */
function rightRows({ rights, withdrawals, pending = [] }) {
  const withdrawn = new Map(withdrawals.map((w) => [rightKey(w), w]));
  const carried = new Set(rights.map(rightKey));
  return [
    ...rights.map((r) => ({ ...r, withdrawal: withdrawn.get(rightKey(r)), state: r.withdrawn || withdrawn.has(rightKey(r)) ? 'withdrawn' : 'in force' })),
    ...withdrawals.filter((w) => !carried.has(rightKey(w))).map((w) => ({ subjectType: 'SUBSYSTEM', ...w, withdrawal: w, state: 'withdrawn' })),
    ...pending
      .filter((p) => (p.type === undefined || p.type === 'accessRightAdd') && !carried.has(rightKey(p)))
      .map((p) => ({ subjectType: 'SUBSYSTEM', method: '*', path: '/**', ...p, origin: `request:${p.requestId}`, state: p.status ?? 'in progress' })),
  ].sort((a, b) => a.service.localeCompare(b.service) || a.subject.localeCompare(b.subject) || a.path.localeCompare(b.path));
}

function stateCell(r) {
  if (r.state === 'in force') return el('span', { class: 'ok', text: 'in force' });
  if (r.state !== 'withdrawn') return el('span', { class: 'pending', title: IN_PROGRESS_TITLE, text: r.state });
  const w = r.withdrawal;
  return el(
    'div',
    {},
    el('span', { class: 'fail', text: 'withdrawn here' }),
    w?.refused
      ? el('div', { class: 'error refused', text: `central refused the removal: ${w.refused}` })
      : el('div', { class: 'note', text: `denied since ${time(w?.since)}; the removal goes to central each poll until the configuration drops the right` }),
  );
}

function rightActions(r, reload, state) {
  const data = { 'data-service': r.service, 'data-subject': r.subject, 'data-method': r.method, 'data-path': r.path };
  if (r.state === 'in force') {
    return actionButton('Revoke', { class: 'revoke', ...data }, async () => {
      state.rightsNotice = withdrawalAnswer(`${r.subject} → ${r.method} ${r.path}`, await api('DELETE', '/access-rights', rightBody(r)));
      await reload();
    });
  }
  if (r.state !== 'withdrawn') return '';
  return actionButton('Drop the withdrawal', { class: 'drop', ...data, title: "the configuration's right applies here again" }, async () => {
    await api('DELETE', '/access-rights/withdrawals', rightBody(r));
    await reload();
  });
}

const resendButton = (reload, state) =>
  actionButton('Resend the removals now', { class: 'resend' }, async () => {
    const { sent } = await api('POST', '/access-rights/withdrawals/resend');
    state.rightsNotice = el(
      'div',
      { class: 'token central-answer', role: 'status' },
      el('strong', { text: `${sent.length} removal${sent.length === 1 ? '' : 's'} sent again:` }),
      el(
        'ul',
        { class: 'plain' },
        sent.map((s) => el('li', { text: `${s.subject} → ${s.method} ${s.path}: ${s.central === 'recorded' ? `recorded (request ${s.requestId})` : `${s.central}: ${s.reason}`}` })),
      ),
    );
    await reload();
  });

/** The grant: a subsystem or one of the service's subsystem's local groups, on all of a service or one method and path. */
function grantForm(services, reload, state) {
  const f = form(
    'Grant a right',
    [
      { name: 'service', label: 'Service', options: services.map((s) => s.id) },
      { name: 'subjectType', label: 'Subject type', options: ['SUBSYSTEM', 'LOCALGROUP'], value: 'SUBSYSTEM' },
      { name: 'subject', label: 'Subject (subsystem or local group id)', placeholder: 'CAMDX/GOV/MOC/BIZREG' },
      { name: 'method', label: 'Method', options: METHODS, value: '*' },
      { name: 'path', label: 'Path', value: '/**', placeholder: '/orders/*' },
    ],
    'Grant',
    async (v) => {
      const right = { service: v.service, subject: v.subject.trim(), subjectType: v.subjectType, method: v.method, path: v.path.trim() || '/**' };
      state.rightsNotice = centralAnswer(`${right.subject} → ${right.method} ${right.path} on ${right.service}`, await api('POST', '/access-rights', rightBody(right)));
      await reload();
    },
  );
  for (const o of f.querySelectorAll('select[name="subjectType"] option')) o.textContent = SUBJECT_TYPES[o.value];
  // The published endpoints' paths, offered as the path is typed.
  const paths = [...new Set(services.flatMap((s) => (s.endpoints ?? []).map((e) => e.path)))];
  f.querySelector('input[name="path"]').setAttribute('list', 'endpoint-paths');
  f.append(
    el(
      'datalist',
      { id: 'endpoint-paths' },
      paths.map((p) => el('option', { value: p })),
    ),
  );
  return f;
}

/**
 * The withdrawals shown before that have ended since: the configuration dropped their right (or
 * the owner dropped them). Said until the owner's next change on this page.
 */
function endedWithdrawals(data, state) {
  const now = new Set(data.withdrawals.map(rightKey));
  const carried = new Set(data.rights.map(rightKey));
  const ended = (state.withdrawalsShown ?? []).filter((w) => !now.has(rightKey(w)));
  state.withdrawalsShown = data.withdrawals;
  state.withdrawalsEnded = [...(state.withdrawalsEnded ?? []), ...ended.map((w) => ({ ...w, dropped: carried.has(rightKey(w)) }))].slice(-10);
  return state.withdrawalsEnded.map((w) =>
    el(
      'p',
      { class: 'token central-answer ended', role: 'status' },
      `${w.subject} → ${w.method} ${w.path} on ${w.service}: `,
      w.dropped ? 'the withdrawal was dropped; the right applies here again.' : 'the global configuration no longer carries the right, so its withdrawal here has ended.',
    ),
  );
}

export const rights = {
  title: 'Access rights',
  nav: 'Rights',
  async render(out, reload, state) {
    const [data, services] = await Promise.all([api('GET', '/access-rights'), api('GET', '/services')]);
    const rows = rightRows(data);
    const notice = takeNotice(state, 'rightsNotice');
    // A new answer replaces what the page said of earlier changes.
    if (notice) state.withdrawalsEnded = [];
    out.append(
      notice,
      ...endedWithdrawals(data, state),
      el(
        'p',
        { class: 'summary' },
        actionButton('Reload', { class: 'reload' }, reload),
        data.withdrawals.length ? resendButton(reload, state) : '',
        'Who may call the services this gateway provides. A grant goes to central as a signed accessRightAdd; a revocation is denied here at once, central up ' +
          'or not, and sent as accessRightRemove until central records it.',
      ),
      el(
        'div',
        { class: 'rights' },
        table(
          ['Service', 'Subject', 'Type', 'Method and path', 'Origin', 'State', ''],
          rows.map((r) => [
            el('code', { text: r.service }),
            el('code', { class: 'subject', text: r.subject }),
            SUBJECT_TYPES[r.subjectType] ?? r.subjectType,
            el('code', { class: 'nowrap', text: `${r.method} ${r.path}` }),
            el('code', { text: r.origin ?? '—' }),
            stateCell(r),
            rightActions(r, reload, state),
          ]),
          'no rights on the services of this gateway',
        ),
      ),
      services.length
        ? el('div', { class: 'forms' }, grantForm(services, reload, state))
        : el('p', { class: 'note', text: 'This gateway provides no services yet: add one on the Descriptions page.' }),
    );
    // Each row says its state, for a reader's tools and the test: in force, in progress, withdrawn.
    for (const [i, tr] of [...out.querySelectorAll('.rights tbody tr')].entries()) if (rows[i]) tr.dataset.state = rows[i].state;
  },
};

/** A group's members: in force, added but not carried yet, or removed here (denied at once). */
function memberList(g, pending, reload, state) {
  const withdrawn = new Set(g.withdrawnMembers ?? []);
  const adding = pending.filter((p) => p.type === 'localGroupMemberAdd' && p.group === g.id && !g.members.includes(p.member));
  const remove = (m) =>
    actionButton('Remove', { class: 'remove-member', 'data-group': g.id, 'data-member': m }, async () => {
      const r = await api('DELETE', '/local-groups/members', { group: g.id, member: m });
      state.groupsNotice = withdrawalAnswer(`${m} out of ${g.id}`, r);
      await reload();
    });
  const items = [
    ...g.members.map((m) => el('li', { 'data-member': m }, el('code', { text: m }), ' ', withdrawn.has(m) ? el('span', { class: 'fail', text: 'withdrawn here' }) : remove(m))),
    ...adding.map((p) => el('li', { 'data-member': p.member }, el('code', { text: p.member }), ' ', el('span', { class: 'pending', title: IN_PROGRESS_TITLE, text: p.status ?? 'in progress' }))),
  ];
  return items.length ? el('ul', { class: 'plain members' }, items) : el('span', { class: 'note', text: 'no members' });
}

function groupForms(groups, owners, reload, state) {
  const add = form(
    'Add a local group',
    [
      { name: 'owner', label: 'Owner subsystem', options: owners },
      { name: 'code', label: 'Code', placeholder: 'PARTNERS' },
      { name: 'description', label: 'Description', placeholder: 'Partners allowed to order' },
    ],
    'Add',
    async (v) => {
      const r = await api('POST', '/local-groups', { owner: v.owner, code: v.code.trim(), description: v.description.trim() });
      state.groupsNotice = centralAnswer(`Local group ${r.id ?? `${v.owner}/${v.code.trim()}`}`, r);
      await reload();
    },
  );
  const member = form(
    'Add a group member',
    [
      { name: 'group', label: 'Group', options: groups.map((g) => g.id) },
      { name: 'member', label: 'Member subsystem', placeholder: 'CAMDX/GOV/MOC/BIZREG' },
    ],
    'Add',
    async (v) => {
      const r = await api('POST', '/local-groups/members', { group: v.group, member: v.member.trim() });
      state.groupsNotice = centralAnswer(`${v.member.trim()} into ${v.group}`, r);
      await reload();
    },
  );
  return el(
    'div',
    { class: 'forms' },
    owners.length ? add : el('p', { class: 'note', text: 'A local group belongs to a subsystem of this server: add one on the Clients page first.' }),
    groups.length ? member : '',
  );
}

export const groups = {
  title: 'Local groups',
  nav: 'Groups',
  async render(out, reload, state) {
    const [data, clients] = await Promise.all([apiIfServed('GET', '/local-groups'), api('GET', '/clients')]);
    if (data === undefined) {
      out.append(el('p', { class: 'note', id: 'not-served', text: 'This gateway does not serve /api/v1/local-groups yet: local groups come with a newer gateway.' }));
      return;
    }
    const pending = data.pending ?? [];
    const known = new Set(data.groups.map((g) => g.id));
    const adding = pending.filter((p) => p.type === 'localGroupAdd' && !known.has(p.group));
    const removing = new Set(pending.filter((p) => p.type === 'localGroupRemove').map((p) => p.group));
    const del = (g) =>
      actionButton('Delete', { class: 'delete-group', 'data-group': g.id }, async () => {
        state.groupsNotice = centralAnswer(`Deleting ${g.id}`, await api('DELETE', '/local-groups', { id: g.id }));
        await reload();
      });
    const rows = [
      ...data.groups.map((g) => [
        el('code', { text: g.id }),
        el('code', { text: g.owner }),
        g.code,
        g.description,
        memberList(g, pending, reload, state),
        removing.has(g.id) ? el('span', { class: 'pending', title: IN_PROGRESS_TITLE, text: 'deletion in progress' }) : del(g),
      ]),
      ...adding.map((p) => [
        el('code', { text: p.group }),
        el('code', { text: p.group.split('/').slice(0, 4).join('/') }),
        p.group.split('/')[4] ?? '',
        p.description ?? '',
        '—',
        el('span', { class: 'pending', title: IN_PROGRESS_TITLE, text: `${p.status ?? 'in progress'} (request ${p.requestId})` }),
      ]),
    ];
    const owners = clients.filter((c) => c.registered).map((c) => c.id);
    out.append(
      takeNotice(state, 'groupsNotice'),
      el(
        'p',
        { class: 'summary' },
        actionButton('Reload', { class: 'reload' }, reload),
        "A local group is a provider subsystem's own list of subsystems (X-Road's local groups): a subject of rights on that subsystem's services only. A member removed is denied here at once.",
      ),
      el('div', { class: 'local-groups' }, table(['Group', 'Owner', 'Code', 'Description', 'Members', ''], rows, 'no local groups yet')),
      groupForms(data.groups, owners, reload, state),
    );
  },
};
