// The `info` object AppSync hands a resolver, built from graphql-js's AST: shared by the HTTP
// endpoint (server.mjs) and the real-time endpoint (realtime.mjs).
import { print } from 'graphql';

/** AppSync's `selectionSetList`: nested paths joined with '/', aliases where given. */
export function selectionSetList(selectionSet, fragments, prefix = '', out = []) {
  for (const sel of selectionSet?.selections ?? []) {
    if (sel.kind === 'Field') {
      const name = (sel.alias ?? sel.name).value;
      if (name === '__typename') continue;
      const path = prefix ? `${prefix}/${name}` : name;
      out.push(path);
      if (sel.selectionSet) selectionSetList(sel.selectionSet, fragments, path, out);
    } else if (sel.kind === 'InlineFragment') {
      selectionSetList(sel.selectionSet, fragments, prefix, out);
    } else if (sel.kind === 'FragmentSpread') {
      selectionSetList(fragments[sel.name.value]?.selectionSet, fragments, prefix, out);
    }
  }
  return out;
}

/** AppSync's `info` for the field `node` of `parentTypeName`. */
export function fieldInfo({ parentTypeName, node, fragments, variables }) {
  return {
    parentTypeName,
    fieldName: node.name.value,
    variables: variables ?? {},
    selectionSetList: selectionSetList(node.selectionSet, fragments),
    selectionSetGraphQL: node.selectionSet ? print(node.selectionSet) : '',
  };
}
