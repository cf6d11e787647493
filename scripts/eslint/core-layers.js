// The layers inside main/core (STYLE.md, "Lessons from our own code"): a module may import its own
// layer and any lower one, never a higher one. A file's layer is its first path segment under
// main/core (a top-level file such as clock.ts is its basename); store/migrations/ is store.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, whatever directory eslint runs from. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORE = 'main/core';

/** Bottom to top. ../shared/tools/check-structure.mjs checks the same order independently. */
export const LAYER_ORDER = [
  ['store', 'clock', 'logger', 'oauth', 'errors', 'params', 'protocol'],
  ['transport'],
  ['vault', 'audit'],
  ['directory'],
  ['policy'],
  ['tokens'],
  ['consent'],
  ['sts'],
  ['brokered'],
  ['ui', 'admin'],
  ['broker'],
];
const rank = new Map(LAYER_ORDER.flatMap((names, index) => names.map((name) => [name, index])));

/** The layer of a path relative to main/core, or undefined when the path leaves main/core. */
function layerOf(pathInCore) {
  if (pathInCore === '' || pathInCore.startsWith('..') || path.posix.isAbsolute(pathInCore)) return undefined;
  const [first] = pathInCore.split('/');
  return first.replace(/\.(ts|tsx|js|mjs|cjs)$/, '');
}

const toPosix = (p) => p.split(path.sep).join('/');

/** @type {import('eslint').Rule.RuleModule} */
export const coreLayers = {
  meta: {
    type: 'problem',
    docs: { description: 'main/core: a lower layer never imports a higher one' },
    schema: [],
    messages: {
      upward: 'main/core layers: {{from}} may not import {{to}}, a higher layer.',
      unknownLayer: 'main/core layers: "{{layer}}" has no place in the layer order; give it one in scripts/eslint/core-layers.js.',
    },
  },
  create(context) {
    const file = toPosix(path.relative(ROOT, context.filename));
    if (!file.startsWith(`${CORE}/`)) return {};
    const from = layerOf(file.slice(CORE.length + 1));
    const directory = path.posix.dirname(file);

    function check(source) {
      if (!rank.has(from) || typeof source?.value !== 'string' || !source.value.startsWith('.')) return;
      const to = layerOf(path.posix.relative(CORE, path.posix.join(directory, source.value)));
      if (to === undefined || to === from) return; // leaves main/core (shared/), or the same layer
      if (!rank.has(to)) context.report({ node: source, messageId: 'unknownLayer', data: { layer: to } });
      else if (rank.get(to) > rank.get(from)) context.report({ node: source, messageId: 'upward', data: { from, to } });
    }

    return {
      Program(node) {
        if (!rank.has(from)) context.report({ node, messageId: 'unknownLayer', data: { layer: from } });
      },
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { rules: { 'core-layers': coreLayers } };
