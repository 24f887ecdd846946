// AppSync's enhanced subscription filters, outside AppSync: `util.transform.toSubscriptionFilter`
// (the map → filterGroup conversion), the limits AppSync enforces when a subscription resolver
// sets a filter, and the evaluation of a filter against a published object (or, for
// invalidation filters, against an invalidation payload).
//
// Semantics, as AWS documents them (docs.aws.amazon.com/appsync/latest/devguide/):
//   - aws-appsync-real-time-enhanced-filtering.html: the filters of one group are ANDed, the
//     groups of a filterGroup are ORed; `a.b.c` names a nested field; filters past nesting level
//     five are ignored; top-level lists of objects are not filterable.
//   - transformation-helpers-in-utils-transform-js.html: toSubscriptionFilter(map, ignoredFields,
//     rules): field keys are ANDed, `and`/`or` nest, two or more conditions on one field are
//     ORed, ignored field names are dropped at every level, and `rules` are strict alternatives
//     of which at least one must hold (each group is combined with each rule).
//   - extensions-js.html: the filterJsonObject shape {filterGroup: [{filters: [{fieldName,
//     operator, value}]}]}.
// Limits (AppSync rejects the subscription when a filter exceeds them): at most 10 groups, 5
// filters a group, 5 distinct fields a subscription ("Filters exceed maximum attributes limit"),
// 5 values for in/notIn, 20 for containsAny, 256 characters a field path. Sources: the error
// strings AppSync returns as handled in aws-amplify/amplify-js packages/datastore/src/sync/
// utils.ts (RTFError.MaxAttributes, MaxCombinations) and aws-amplify/amplify-flutter#6142
// ("Filters exceed maximum attributes limit 5 for subscription"); the per-operator and group
// sizes as the lambda-appsync crate encodes them (subscription_filters.rs).

export const LIMITS = Object.freeze({
  groups: 10,
  filtersPerGroup: 5,
  distinctFields: 5,
  inValues: 5,
  containsAnyValues: 20,
  fieldNameLength: 256,
  nesting: 5,
});

const OPERATORS = new Set(['eq', 'ne', 'le', 'lte', 'lt', 'ge', 'gte', 'gt', 'contains', 'notContains', 'beginsWith', 'in', 'notIn', 'between', 'containsAny']);

/** A filter AppSync would refuse: the subscription fails with this message. */
export class FilterError extends Error {
  constructor(message) {
    super(message);
    this.errorType = 'ValidationError';
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every combination of one conjunction from each list: the AND of two ORs, distributed. */
function cross(left, right) {
  const out = [];
  for (const a of left) for (const b of right) out.push([...a, ...b]);
  return out;
}

/** A filter map as a list of conjunctions (disjunctive normal form), in AppSync's order. */
function expand(map, ignored) {
  if (!isObject(map)) throw new FilterError('toSubscriptionFilter expects an object of field conditions, "and" and "or".');
  let groups = [[]];
  for (const [key, value] of Object.entries(map)) {
    if (ignored.has(key)) continue;
    if (key === 'and' || key === 'or') {
      if (!Array.isArray(value)) throw new FilterError(`"${key}" expects an array of conditions.`);
      const parts = value.map((v) => expand(v, ignored));
      // An alternative of an `or` left empty by ignoredFields drops out (it does not become
      // "always true"), as the reference's second example shows.
      const nonEmpty = parts.flat().filter((g) => g.length > 0);
      const combined = key === 'and'
        ? parts.reduce((acc, p) => cross(acc, p), [[]])
        : (nonEmpty.length ? nonEmpty : [[]]);
      groups = cross(groups, combined);
      continue;
    }
    if (!isObject(value)) throw new FilterError(`The condition on "${key}" must be an object of operator: value.`);
    // Two or more conditions on one field are ORed (as the util.transform reference states).
    const alternatives = Object.entries(value).map(([operator, v]) => [{ fieldName: key, operator, value: v }]);
    if (alternatives.length === 0) continue;
    groups = cross(groups, alternatives);
  }
  return groups;
}

/** `util.transform.toSubscriptionFilter(objFilter, ignoredFields?, rules?)`. */
export function toSubscriptionFilter(objFilter, ignoredFields = [], rules = null) {
  const ignored = new Set(ignoredFields ?? []);
  let groups = expand(objFilter, ignored).filter((g) => g.length > 0);
  if (rules && Object.keys(rules).length > 0) {
    const strict = Object.entries(rules).map(([fieldName, cond]) => {
      const entries = Object.entries(cond ?? {});
      if (entries.length !== 1) throw new FilterError(`A strict rule on "${fieldName}" must have exactly one condition.`);
      const [[operator, value]] = entries;
      return [{ fieldName, operator, value }];
    });
    groups = cross(groups.length ? groups : [[]], strict);
  }
  return { filterGroup: groups.map((filters) => ({ filters })) };
}

/**
 * Checks a filterJsonObject against AppSync's limits and shape; throws FilterError with the
 * message AppSync's refusal carries.
 */
export function validateFilter(filter) {
  if (!isObject(filter) || !Array.isArray(filter.filterGroup)) {
    throw new FilterError('A subscription filter must be {"filterGroup": [{"filters": [...]}]}.');
  }
  if (filter.filterGroup.length > LIMITS.groups) {
    throw new FilterError(`Filters combination exceed maximum limit ${LIMITS.groups} for subscription.`);
  }
  const fields = new Set();
  for (const group of filter.filterGroup) {
    if (!isObject(group) || !Array.isArray(group.filters) || group.filters.length === 0) {
      throw new FilterError('Every filter group needs a non-empty "filters" list.');
    }
    if (group.filters.length > LIMITS.filtersPerGroup) {
      throw new FilterError(`A filter group may hold at most ${LIMITS.filtersPerGroup} filters.`);
    }
    for (const f of group.filters) {
      if (!isObject(f) || typeof f.fieldName !== 'string' || f.fieldName === '') throw new FilterError('Every filter needs a fieldName.');
      if (f.fieldName.length > LIMITS.fieldNameLength) throw new FilterError(`Field path longer than ${LIMITS.fieldNameLength} characters: ${f.fieldName.slice(0, 40)}...`);
      if (!OPERATORS.has(f.operator)) throw new FilterError(`Unsupported filter operator "${f.operator}".`);
      if ((f.operator === 'in' || f.operator === 'notIn') && (!Array.isArray(f.value) || f.value.length > LIMITS.inValues)) {
        throw new FilterError(`"${f.operator}" takes a list of at most ${LIMITS.inValues} values.`);
      }
      if (f.operator === 'containsAny' && (!Array.isArray(f.value) || f.value.length > LIMITS.containsAnyValues)) {
        throw new FilterError(`"containsAny" takes a list of at most ${LIMITS.containsAnyValues} values.`);
      }
      if (f.operator === 'between' && (!Array.isArray(f.value) || f.value.length !== 2)) {
        throw new FilterError('"between" takes a list of exactly two values.');
      }
      fields.add(f.fieldName);
    }
  }
  if (fields.size > LIMITS.distinctFields) {
    throw new FilterError(`Filters exceed maximum attributes limit ${LIMITS.distinctFields} for subscription.`);
  }
  return filter;
}

/** The value at a dotted path; `undefined` when absent. Past five levels: not filterable. */
function valueAt(data, path) {
  const parts = path.split('.');
  let v = data;
  for (const p of parts) {
    if (!isObject(v)) return undefined;
    v = v[p];
  }
  return v;
}

const comparable = (a, b) => (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');

function holds(f, data) {
  // Filters on fields nested deeper than five levels are ignored by AppSync.
  if (f.fieldName.split('.').length > LIMITS.nesting) return true;
  const v = valueAt(data, f.fieldName);
  // A missing field compares as null: it equals nothing but null, and is "not equal" to any value.
  const actual = v === undefined ? null : v;
  const x = f.value;
  switch (f.operator) {
    case 'eq': return actual === x;
    case 'ne': return actual !== x;
    case 'le': case 'lte': return comparable(actual, x) && actual <= x;
    case 'lt': return comparable(actual, x) && actual < x;
    case 'ge': case 'gte': return comparable(actual, x) && actual >= x;
    case 'gt': return comparable(actual, x) && actual > x;
    case 'contains':
      if (typeof actual === 'string') return typeof x === 'string' && actual.includes(x);
      return Array.isArray(actual) && actual.includes(x);
    case 'notContains':
      if (typeof actual === 'string') return !(typeof x === 'string' && actual.includes(x));
      return !(Array.isArray(actual) && actual.includes(x));
    case 'beginsWith': return typeof actual === 'string' && typeof x === 'string' && actual.startsWith(x);
    case 'in': return x.includes(actual);
    case 'notIn': return !x.includes(actual);
    case 'between': return comparable(actual, x[0]) && comparable(actual, x[1]) && actual >= x[0] && actual <= x[1];
    case 'containsAny':
      if (typeof actual === 'string') return x.some((y) => typeof y === 'string' && actual.includes(y));
      return Array.isArray(actual) && x.some((y) => actual.includes(y));
    default: return false;
  }
}

/** True when `data` passes `filter`: any group whose filters all hold. */
export function matches(filter, data) {
  return filter.filterGroup.some((g) => g.filters.every((f) => holds(f, data)));
}
