// CamDX API catalogue: fetches /catalogue/data and renders each service and its OpenAPI document.
// Everything is built with DOM calls and textContent (never innerHTML): descriptions, names and
// every other string from a document are shown as plain text, whatever they hold.
'use strict';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_DEPTH = 4;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v) => (typeof v === 'string' ? v : '');
/** A description as plain text; nothing (an empty fragment, safe to append anywhere) when there is none. */
const description = (v) => (text(v) ? el('p', { class: 'description' }, v) : document.createDocumentFragment());
const methodBadge = (m) => el('span', { class: `method method-${m}` }, m);

/** A local JSON pointer (`#/components/schemas/X`) in the document, or undefined; own keys only. */
function resolve(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** An object that may be a `$ref`, followed (a few steps, so a loop of refs ends). */
function deref(doc, value) {
  for (let i = 0; i < 5 && isObject(value) && typeof value.$ref === 'string'; i++) value = resolve(doc, value.$ref);
  return isObject(value) ? value : {};
}

const refName = (ref) => ref.split('/').pop();

/** A schema in one line: `string`, `array of Token`, `UserInfo`, `"1" | "2"`. */
function typeOf(schema) {
  if (!isObject(schema)) return schema === true ? 'any' : '';
  if (typeof schema.$ref === 'string') return refName(schema.$ref);
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  for (const k of ['oneOf', 'anyOf', 'allOf']) if (Array.isArray(schema[k])) return schema[k].map(typeOf).join(k === 'allOf' ? ' & ' : ' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : text(schema.type);
  if (type === 'array') return `array of ${typeOf(schema.items) || 'any'}`;
  const format = schema.format || schema.contentEncoding;
  return `${type || (schema.properties ? 'object' : 'any')}${format ? ` (${format})` : ''}`;
}

/** A schema as a block: its type, description and, for objects, a table of its properties. */
function schemaBlock(doc, schema, depth) {
  const block = el('div', { class: 'schema' });
  if (!isObject(schema)) return block;
  if (typeof schema.$ref === 'string') {
    block.append(el('code', {}, refName(schema.$ref)), ' ', el('span', { class: 'muted' }, '(see Schemas)'));
    return block;
  }
  block.append(el('code', {}, typeOf(schema)), description(schema.description));
  for (const part of schema.allOf || []) if (depth < MAX_DEPTH) block.append(schemaBlock(doc, part, depth + 1));
  if (isObject(schema.properties)) block.append(propertyTable(doc, schema, depth));
  if (isObject(schema.items) && isObject(schema.items.properties) && depth < MAX_DEPTH) block.append(schemaBlock(doc, schema.items, depth + 1));
  return block;
}

function propertyTable(doc, schema, depth) {
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const rows = Object.entries(schema.properties).map(([name, prop]) => {
    const nested = isObject(prop) && (isObject(prop.properties) || Array.isArray(prop.allOf)) && depth < MAX_DEPTH;
    return el(
      'tr',
      { 'data-property': name },
      el('td', {}, el('code', {}, name), required.has(name) ? el('span', { class: 'req', title: 'required' }, ' *') : null),
      el('td', {}, el('code', {}, typeOf(prop))),
      el('td', {}, isObject(prop) ? description(prop.description) : null, nested ? schemaBlock(doc, prop, depth + 1) : null),
    );
  });
  return el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'property'), el('th', {}, 'type'), el('th', {}, 'description'))), el('tbody', {}, ...rows));
}

function parametersTable(doc, params) {
  const rows = params.map((raw) => {
    const p = deref(doc, raw);
    return el(
      'tr',
      { 'data-parameter': text(p.name) },
      el('td', {}, el('code', {}, text(p.name)), p.required ? el('span', { class: 'req', title: 'required' }, ' *') : null),
      el('td', {}, text(p.in)),
      el('td', {}, el('code', {}, typeOf(p.schema))),
      el('td', {}, description(p.description)),
    );
  });
  return el('table', { class: 'parameters' }, el('thead', {}, el('tr', {}, ...['name', 'in', 'type', 'description'].map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
}

/** Request body or response content: each media type with its schema. */
function contentBlocks(doc, content) {
  if (!isObject(content)) return [];
  return Object.entries(content).map(([type, media]) => el('div', {}, el('span', { class: 'muted' }, type), schemaBlock(doc, isObject(media) ? media.schema : undefined, 0)));
}

function responsesTable(doc, responses) {
  const rows = Object.entries(isObject(responses) ? responses : {}).map(([status, raw]) => {
    const r = deref(doc, raw);
    return el('tr', { 'data-status': status }, el('td', {}, el('code', {}, status)), el('td', {}, description(r.description), ...contentBlocks(doc, r.content)));
  });
  return el('table', { class: 'responses' }, el('thead', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'answer'))), el('tbody', {}, ...rows));
}

/** Vendor extensions naming a schema (camdigikey's encrypted params and data), as rows. */
function extensionRefs(op) {
  const refs = Object.entries(op).filter(([k, v]) => k.startsWith('x-') && isObject(v) && typeof v.$ref === 'string');
  if (!refs.length) return null;
  return el('ul', { class: 'extensions' }, ...refs.map(([k, v]) => el('li', {}, el('code', {}, k), ': ', el('code', {}, refName(v.$ref)))));
}

function operationBlock(doc, method, path, pathItem, op) {
  const m = method.toUpperCase();
  const params = [...(Array.isArray(pathItem.parameters) ? pathItem.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])];
  const body = deref(doc, op.requestBody);
  return el(
    'details',
    { class: 'operation', 'data-operation': `${m} ${path}` },
    el('summary', {}, methodBadge(m), el('code', {}, path), ' ', el('span', { class: 'op-summary' }, text(op.summary))),
    description(op.description),
    extensionRefs(op),
    params.length ? el('h4', {}, 'Parameters') : null,
    params.length ? parametersTable(doc, params) : null,
    op.requestBody ? el('h4', {}, body.required ? 'Request body (required)' : 'Request body') : null,
    ...contentBlocks(doc, body.content),
    el('h4', {}, 'Responses'),
    responsesTable(doc, op.responses),
  );
}

function documentSection(service) {
  const doc = service.document;
  const section = el('div', { class: 'document' }, el('h3', {}, 'OpenAPI description'));
  if (!doc) {
    section.append(el('p', { class: service.documentError ? 'error' : 'empty' }, service.documentError || 'no OpenAPI description registered'));
    return section;
  }
  const info = isObject(doc.info) ? doc.info : {};
  section.append(
    el('p', {}, el('strong', { class: 'doc-title' }, text(info.title)), ` version ${text(info.version)} · OpenAPI ${text(doc.openapi)}`),
    el('p', { class: 'downloads' }, el('a', { href: service.downloads.yaml, download: '' }, 'download YAML'), el('a', { href: service.downloads.json, download: '' }, 'download JSON')),
    description(info.description),
  );
  for (const server of Array.isArray(doc.servers) ? doc.servers : [])
    if (isObject(server)) section.append(el('p', {}, 'Server: ', el('code', {}, text(server.url)), ' ', el('span', { class: 'muted' }, text(server.description))));
  section.append(el('h4', {}, 'Operations'));
  for (const [path, rawItem] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    const item = deref(doc, rawItem);
    for (const m of METHODS) if (isObject(item[m])) section.append(operationBlock(doc, m, path, item, item[m]));
  }
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  if (Object.keys(schemas).length) section.append(el('h4', {}, 'Schemas'));
  for (const [name, schema] of Object.entries(schemas))
    section.append(el('details', { class: 'schema-def', 'data-schema': name }, el('summary', {}, el('code', {}, name)), schemaBlock(doc, schema, 0)));
  return section;
}

function endpointsTable(service) {
  const rows = service.endpoints.map((e) => {
    // Under a wildcard endpoint each operation is named by the part of its path the wildcard stands for.
    const prefix = e.path.replace(/\*.*$/, '');
    const ops =
      e.operations.length === 1 && e.operations[0].path === e.path
        ? [el('span', { class: 'op-summary' }, e.operations[0].summary || '')]
        : e.operations.map((op) =>
            el(
              'div',
              { 'data-operation': `${op.method} ${op.path}` },
              el('code', { title: op.path }, op.path.startsWith(prefix) && prefix.length > 1 ? `…/${op.path.slice(prefix.length)}` : op.path),
              ' ',
              el('span', { class: 'op-summary' }, op.summary || ''),
            ),
          );
    return el(
      'tr',
      { 'data-endpoint': `${e.method} ${e.path}` },
      el('td', {}, methodBadge(e.method)),
      el('td', {}, el('code', {}, e.path)),
      el('td', {}, ...(ops.length ? ops : [el('span', { class: 'empty' }, 'not in the document')])),
    );
  });
  return el('table', { class: 'endpoints' }, el('thead', {}, el('tr', {}, el('th', {}, 'method'), el('th', {}, 'path'), el('th', {}, 'summary'))), el('tbody', {}, ...rows));
}

const COVERAGE = { all: '✓ allowed', some: 'partly', none: '–' };

function accessTable(service) {
  if (!service.access.length) return el('p', { class: 'empty' }, 'no subsystem may call this service yet');
  const head = el('tr', {}, el('th', {}, 'subject'), ...service.endpoints.map((e) => el('th', {}, el('code', {}, `${e.method} ${e.path}`))), el('th', {}, 'granted rules'));
  const rows = service.access.map((a) =>
    el(
      'tr',
      { 'data-subject': a.subject },
      el(
        'th',
        {},
        el('code', {}, a.subject),
        a.subjectType !== 'SUBSYSTEM' ? el('small', { class: 'muted' }, ` ${a.subjectType === 'GLOBALGROUP' ? 'global' : 'local'} group: ${a.members.join(', ') || 'no members'}`) : null,
      ),
      ...a.endpoints.map((c, i) => el('td', { class: c, 'data-endpoint': `${service.endpoints[i].method} ${service.endpoints[i].path}` }, COVERAGE[c])),
      el('td', {}, el('code', {}, a.rules.map((r) => `${r.method} ${r.path}`).join(', '))),
    ),
  );
  return el('div', { class: 'scroll' }, el('table', { class: 'access' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function serviceSection(service) {
  const who = service.provider.memberName ? `${service.provider.memberName} (${service.provider.member})` : service.provider.member;
  return el(
    'section',
    { class: 'service', id: `service-${service.id}`, 'data-service': service.id },
    el('h2', {}, el('code', {}, service.id)),
    el('p', { class: 'provider' }, 'Provided by ', el('strong', {}, who), ', subsystem ', el('code', {}, service.provider.subsystem)),
    el('h3', {}, 'Endpoints'),
    endpointsTable(service),
    el('h3', {}, 'Who may call what'),
    accessTable(service),
    documentSection(service),
  );
}

function render(data) {
  document.getElementById('instance').textContent = data.instance;
  document
    .getElementById('service-list')
    .replaceChildren(...data.services.map((s) => el('li', {}, el('a', { href: `#service-${s.id}` }, s.id), el('small', {}, s.provider.memberName || s.provider.member))));
  const main = document.getElementById('services');
  main.replaceChildren(...data.services.map(serviceSection));
  if (!data.services.length) main.append(el('p', { class: 'empty' }, 'no services are registered yet'));
}

async function load() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/catalogue/data', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    render(data);
    status.textContent = `${data.services.length} services · global configuration v${data.confVersion}`;
    document.body.dataset.loaded = 'true';
  } catch (err) {
    status.className = 'error';
    status.textContent = `cannot load the catalogue (${err.message})`;
  }
}

document.addEventListener('DOMContentLoaded', load);
