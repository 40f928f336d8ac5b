// The import fence (docs/architecture.md, "Folders and what each may import"): every file belongs to one layer of
// eslint.config.js, and every import it makes is resolved to what it names (a file of the repository, a package or a
// Node.js built-in) before it is checked against that layer's list. Matching the resolved path, not the text, is
// what closes `./../x`, `'../index.ts'`, `await import(...)`, `require(...)` and `createRequire(...)(...)`.
import { builtinModules } from 'node:module';
import path from 'node:path';

/** The repository root: this file lives in <root>/eslint-rules/. */
const ROOT = path.resolve(import.meta.dirname, '..');
const NODE_BUILTINS = new Set(builtinModules);
const SOURCE_EXTENSION = /(\.d)?\.(ts|mts|cts|js|mjs|cjs|svelte)$/;

/**
 * @typedef {{ name: string, files: string[], imports: string[], typeImports?: string[], dynamicImports?: string[] }} Layer
 * Entries of `files`, `imports`, `typeImports` and `dynamicImports`:
 * - a path from the repository root containing a `/` (`common/` is the folder and all below it; `main/index.ts` one
 *   file, with or without its extension); `!path` takes a path back out of the list; `files` may also name a file
 *   at the root (`eslint.config.js`);
 * - `node:*`: every Node.js built-in, with or without the `node:` prefix;
 * - a package name (`zod`, `@node-rs/argon2`), which also covers its subpaths (`svelte/store`);
 * - `*`: anything.
 * @typedef {{ kind: 'path' | 'node' | 'package', name: string }} Target
 */

/** @param {string} p */
const stripExtension = (p) => p.replace(SOURCE_EXTENSION, '').replace(/\/index$/, '');

/** @param {string} entry */
const isPathEntry = (entry) => entry.includes('/') && !entry.startsWith('@');

/** @param {string} entry @param {string} repoPath */
function pathMatches(entry, repoPath) {
  if (entry.endsWith('/')) return repoPath === entry.slice(0, -1) || repoPath.startsWith(entry);
  return stripExtension(repoPath) === stripExtension(entry);
}

/** @param {string[]} entries @param {Target} target */
function listAllows(entries, target) {
  if (entries.includes('*')) return true;
  switch (target.kind) {
    case 'node':
      return entries.includes('node:*');
    case 'package':
      return entries.includes(target.name);
    case 'path':
      return (
        entries.some((e) => !e.startsWith('!') && isPathEntry(e) && pathMatches(e, target.name)) &&
        !entries.some((e) => e.startsWith('!') && pathMatches(e.slice(1), target.name))
      );
  }
}

/**
 * True when `importer` (outside `folder`) reaches past the folder's index to a file inside it. A barrel folder's
 * index is its public face: what it does not export is the folder's own business.
 */
function passesBarrel(folder, importer, target) {
  const inside = (p) => p.startsWith(folder);
  return !inside(importer) && inside(target) && stripExtension(target) !== folder.slice(0, -1);
}

/** What an import specifier names, seen from `fromFile` (an absolute path). @returns {Target} */
function resolveSpecifier(specifier, fromFile) {
  const spec = specifier.replace(/[?#].*$/, ''); // Vite's `?url`, `?raw` name the same file
  if (spec.startsWith('node:') || NODE_BUILTINS.has(spec)) return { kind: 'node', name: spec.replace(/^node:/, '') };
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const repoPath = path
      .relative(ROOT, path.resolve(path.dirname(fromFile), spec))
      .split(path.sep)
      .join('/');
    return { kind: 'path', name: repoPath };
  }
  const parts = spec.split('/');
  return { kind: 'package', name: spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec) };
}

/** @param {Target} target */
function describeTarget(target) {
  switch (target.kind) {
    case 'node':
      return `the Node.js built-in ${target.name}`;
    case 'package':
      return `the package ${target.name}`;
    case 'path':
      return target.name.startsWith('..') ? `${target.name}, outside the repository` : target.name;
  }
}

/** @param {string[]} entries */
function describeList(entries) {
  if (entries.includes('*')) return 'anything';
  const named = entries.filter((e) => !e.startsWith('!'));
  const except = named.map(() => /** @type {string[]} */ ([]));
  for (const taken of entries.filter((e) => e.startsWith('!')).map((e) => e.slice(1))) {
    const home = named.findIndex((e) => isPathEntry(e) && pathMatches(e, taken));
    if (home >= 0) except[home]?.push(taken);
  }
  return named.map((e, i) => `${e === 'node:*' ? 'Node.js built-ins' : e}${except[i]?.length ? ` except ${except[i].join(' and ')}` : ''}`).join(', ');
}

/** The literal text of a module specifier node, or null when it is computed at run time. */
function literalText(node) {
  if (!node) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? null;
  return null;
}

/** `createRequire(...)` or `module.createRequire(...)`. */
function isCreateRequireCall(node) {
  if (node?.type !== 'CallExpression') return false;
  const callee = node.callee;
  return (
    (callee.type === 'Identifier' && callee.name === 'createRequire') ||
    (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && callee.property.name === 'createRequire')
  );
}

/** Whether a call's callee loads a module: `require`, `createRequire(...)`, or a variable that holds `createRequire(...)`. */
function isRequireLike(callee, sourceCode) {
  if (isCreateRequireCall(callee)) return true;
  if (callee.type !== 'Identifier') return false;
  if (callee.name === 'require') return true;
  for (let scope = sourceCode.getScope(callee); scope; scope = scope.upper) {
    const variable = scope.set.get(callee.name);
    if (variable) return variable.defs.some((def) => def.node.type === 'VariableDeclarator' && isCreateRequireCall(def.node.init));
  }
  return false;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Each file belongs to a layer, and imports only what its layer lists (resolved, not matched as text).' },
    schema: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['layers'],
        properties: {
          barrels: { type: 'array', items: { type: 'string' } },
          layers: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'files', 'imports'],
              properties: {
                name: { type: 'string' },
                files: { type: 'array', items: { type: 'string' } },
                imports: { type: 'array', items: { type: 'string' } },
                typeImports: { type: 'array', items: { type: 'string' } },
                dynamicImports: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
    ],
    messages: {
      noLayer: '{{file}} is in no layer of eslint.config.js: put it in a folder a layer names, or add a layer (docs/architecture.md).',
      notAllowed: '{{layer}} may not import {{target}}: it imports only {{allowed}}{{extra}} (eslint.config.js, docs/architecture.md).',
      barrel: '{{target}} is inside {{folder}}, whose index is the only way in from outside it: import {{entry}} (eslint.config.js).',
      unresolved: '{{layer}} may not load a module whose name is computed at run time: the fence cannot check it. Use a string literal.',
    },
  },

  create(context) {
    /** @type {{ layers: Layer[] }} */
    const { layers: all, barrels = [] } = context.options[0];
    const file = context.physicalFilename;
    const repoPath = path.relative(ROOT, file).split(path.sep).join('/');
    if (!path.isAbsolute(file) || repoPath.startsWith('..')) return {}; // not a file of this repository (e.g. stdin)
    const layer = all.find((l) => l.files.some((entry) => pathMatches(entry, repoPath) || entry === repoPath));
    if (!layer) {
      return {
        Program(node) {
          context.report({ node, messageId: 'noLayer', data: { file: repoPath } });
        },
      };
    }
    if (layer.imports.includes('*')) return {};
    const typeImports = layer.typeImports ?? [];
    const dynamicImports = layer.dynamicImports ?? [];
    const extra = [
      typeImports.length > 0 ? `; for types only, ${describeList(typeImports)}` : '',
      dynamicImports.length > 0 ? `; by dynamic import() only, ${describeList(dynamicImports)}` : '',
    ].join('');

    /** @param {any} node the specifier's node @param {{ typeOnly?: boolean, dynamic?: boolean }} how */
    function check(node, how) {
      const specifier = literalText(node);
      if (specifier === null) {
        context.report({ node, messageId: 'unresolved', data: { layer: layer.name } });
        return;
      }
      const target = resolveSpecifier(specifier, file);
      const barrel = target.kind === 'path' ? barrels.find((folder) => passesBarrel(folder, repoPath, target.name)) : undefined;
      if (barrel) {
        context.report({ node, messageId: 'barrel', data: { target: target.name, folder: barrel, entry: barrel.slice(0, -1) } });
        return;
      }
      if (listAllows(layer.imports, target)) return;
      if (how.typeOnly && listAllows(typeImports, target)) return;
      if (how.dynamic && listAllows(dynamicImports, target)) return;
      context.report({
        node,
        messageId: 'notAllowed',
        data: { layer: layer.name, target: describeTarget(target), allowed: describeList(layer.imports), extra },
      });
    }

    return {
      ImportDeclaration: (node) => check(node.source, { typeOnly: node.importKind === 'type' }),
      ExportNamedDeclaration: (node) => node.source && check(node.source, { typeOnly: node.exportKind === 'type' }),
      ExportAllDeclaration: (node) => check(node.source, { typeOnly: node.exportKind === 'type' }),
      ImportExpression: (node) => check(node.source, { dynamic: true }),
      TSImportType: (node) => check(node.source ?? node.argument?.literal, { typeOnly: true }),
      TSExternalModuleReference: (node) => check(node.expression, { typeOnly: node.parent?.importKind === 'type' }),
      CallExpression(node) {
        if (isRequireLike(node.callee, context.sourceCode)) check(node.arguments[0], {});
      },
    };
  },
};

export default { meta: { name: 'local' }, rules: { layers } };
