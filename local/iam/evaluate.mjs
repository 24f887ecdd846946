// One IAM decision for one authorization request, by @cloud-copilot/iam-simulate (AGPL-3.0, a
// development-only dependency of local/: nothing deployed runs it), and the words AWS uses when
// it refuses. A refusal also says which statement was missing: the principal's statement
// nearest to the request (matching action first, then resource) and why it did not match.
import { runSimulation } from '@cloud-copilot/iam-simulate';

/**
 * A principal as the evaluator sees it:
 *   arn: the caller's ARN as AWS reports it (assumed-role session, user)
 *   principalArn: aws:PrincipalArn (the role's ARN for a role session)
 *   policies: [{ name, policy }] identity policies, sessionPolicy: optional document
 *   tags: session/principal tags ({ tenant: 'acme' } → aws:PrincipalTag/tenant)
 */
export function principalContext(principal) {
  const ctx = {
    'aws:PrincipalArn': principal.principalArn ?? principal.arn,
    'aws:PrincipalAccount': principal.accountId,
    'aws:PrincipalType': principal.principalArn && principal.principalArn !== principal.arn ? 'AssumedRole' : 'User',
  };
  if (principal.userId) ctx['aws:userid'] = principal.userId;
  for (const [k, v] of Object.entries(principal.tags ?? {})) ctx[`aws:PrincipalTag/${k}`] = v;
  return ctx;
}

function nearestStatement(identity, action, resource) {
  const unmatched = identity?.unmatchedStatements ?? [];
  const score = (s) => (s.actionMatch ? 2 : 0) + (s.resourceMatch ? 1 : 0);
  const best = [...unmatched].sort((a, b) => score(b) - score(a))[0];
  if (!best) return { statement: null, why: 'the principal has no statement at all' };
  // The library's statement objects serialize to the policy's own JSON.
  const statement = JSON.parse(JSON.stringify(best.statement));
  const why = [];
  if (!best.actionMatch) why.push(`its Action ${JSON.stringify(statement.Action ?? statement.NotAction)} does not include ${action}`);
  if (!best.resourceMatch) why.push(`its Resource ${JSON.stringify(statement.Resource ?? statement.NotResource)} does not match ${resource}`);
  if (best.actionMatch && best.resourceMatch && best.conditionMatch !== 'Match') {
    const failed = (best.explain?.conditions ?? []).filter((c) => !c.matches)
      .map((c) => `${c.operator} ${c.conditionKeyValue} ${JSON.stringify([].concat(c.values ?? []).map((v) => v.value))}${c.unmatchedValues?.length ? ` (request values not allowed: ${JSON.stringify(c.unmatchedValues)})` : ' (the request does not satisfy it)'}`);
    why.push(`its Condition does not hold: ${failed.join('; ') || JSON.stringify(statement.Condition)}`);
  }
  return { policy: best.policyId, statement, why: why.join('; ') };
}

/**
 * { allowed, result ('Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'Error'),
 *   message (AWS's refusal text), missing ({ policy, statement, why }) }
 */
export async function evaluate(principal, { action, resource, context = {} }) {
  const contextVariables = { ...principalContext(principal), ...context };
  const sim = await runSimulation({
    request: { principal: principal.arn, action, resource: { resource, accountId: principal.accountId }, contextVariables },
    identityPolicies: principal.policies,
    sessionPolicy: principal.sessionPolicy,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  if (sim.resultType === 'error') {
    return { allowed: false, result: 'Error', message: `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource}`, missing: { why: JSON.stringify(sim.errors) } };
  }
  const analysis = sim.resultType === 'single' ? sim.result.analysis : sim.results?.[0]?.analysis;
  const result = sim.overallResult ?? analysis?.result;
  if (result === 'Allowed') return { allowed: true, result };
  const base = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource}`;
  if (result === 'ExplicitlyDenied') {
    return { allowed: false, result, message: `${base} with an explicit deny in an identity-based policy`, missing: null };
  }
  // Denied by the session policy while the identity policies allow it.
  if (analysis?.identityAnalysis?.result === 'Allowed' && principal.sessionPolicy) {
    return { allowed: false, result, message: `${base} because no session policy allows the ${action} action`, missing: nearestStatement(analysis.sessionAnalysis, action, resource) };
  }
  return {
    allowed: false,
    result,
    message: `${base} because no identity-based policy allows the ${action} action`,
    missing: nearestStatement(analysis?.identityAnalysis, action, resource),
  };
}
