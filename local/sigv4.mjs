// Verifies AWS Signature Version 4 on a GraphQL request the way AppSync's AWS_IAM mode does, and
// refuses with the HTTP status and `{"errors":[{"errorType","message"}]}` body AppSync answers.
//
// The signature is recomputed with AWS's own signer (@smithy/signature-v4, the one every AWS SDK
// for JavaScript signs with): its canonicalisation of the path, query and headers, its signing-key
// derivation and its string-to-sign. Only two things are ours, on purpose:
//   - the canonical request covers exactly the headers the client named in SignedHeaders (clients
//     differ: Amplify signs content-type;host;x-amz-date;x-amz-security-token;x-amz-user-agent,
//     botocore also signs x-amz-content-sha256 and more), and
//   - the payload hash is always computed from the body bytes received, never read from an
//     x-amz-content-sha256 header, so a body changed after signing cannot pass.
//
// Where each refusal's status, errorType and message come from (AppSync's own answers as quoted in
// public issue threads; where AppSync's wording was not found, AWS's shared SigV4 front end's):
//   no Authorization header      403 MissingAuthenticationTokenException "Missing Authentication Token"
//       errorType: an AWS_IAM AppSync API's own CloudWatch log of an unsigned request
//       (github.com/aws-amplify/amplify-js/issues/1311); status and message as the SigV4 front end
//       words this error (API Gateway answers the same). Not confirmed for AppSync itself.
//   malformed Authorization      403 IncompleteSignatureException "Authorization header requires 'Credential' parameter. ..."
//       github.com/aws-amplify/amplify-js/issues/7906 and issues/2035 (AppSync, JWT sent to an
//       IAM API), github.com/awslabs/aws-mobile-appsync-sdk-js/issues/702 ("'accept' is named as a
//       SignedHeader, but it does not exist in the HTTP request.")
//   unknown key / wrong token    403 UnrecognizedClientException "The security token included in the request is invalid."
//       github.com/aws-amplify/amplify-js/issues/3447 (AppSync, AWS_IAM, 403)
//   expired credentials          403 ExpiredTokenException "The security token included in the request is expired"
//       github.com/aws-amplify/amplify-js/issues/6181 and issues/13223 (AppSync IAM calls after
//       the Identity Pool credentials' hour)
//   signature mismatch           403 InvalidSignatureException "The request signature we calculated does not match ..."
//       github.com/aws-amplify/amplify-js/issues/2422 (AppSync, x-amzn-ErrorType
//       InvalidSignatureException, 403); the message with the canonical string and string-to-sign
//       as AppSync words it in github.com/awslabs/aws-mobile-appsync-sdk-js/pull/561
//   wrong region / service       403 InvalidSignatureException "Credential should be scoped to a valid region, not 'us-east-1'. "
//                                                          / "Credential should be scoped to correct service: 'appsync'. "
//       AWS's SigV4 front end (github.com/aws/aws-sdk-js/issues/792,
//       github.com/cllunsford/aws-signing-proxy/issues/25); AppSync's own wording not found
//   X-Amz-Date more than 5 min   400 BadRequestException "Signature expired: <date> is now earlier than <now-5m> (<now> - 5 min.)"
//     from now                                          / "Signature not yet current: <date> is still later than <now+5m> (<now> + 5 min.)"
//       github.com/aws-amplify/amplify-js/issues/11480 (AppSync: "BadRequestException"/"Signature
//       expired"), github.com/aws-amplify/amplify-js/pull/5869 (API.graphql answers 400 on clock
//       skew), github.com/awslabs/aws-mobile-appsync-sdk-js/issues/620 ("Signature not yet
//       current ... (... + 5 min.)"). An older report (aws-mobile-appsync-sdk-js/issues/385) saw 403.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ALGORITHM_IDENTIFIER, SignatureV4, createScope, getCanonicalHeaders } from '@smithy/signature-v4';

const FIVE_MINUTES = 5 * 60 * 1000;

/** A refusal before any resolver runs: AppSync's HTTP status, errorType and message. */
export class Refusal extends Error {
  constructor(status, errorType, message) {
    super(message);
    this.status = status;
    this.errorType = errorType;
  }

  /** AppSync's body for a request refused at the door. */
  body() {
    return { errors: [{ errorType: this.errorType, message: this.message }] };
  }
}

const incomplete = (message) => new Refusal(403, 'IncompleteSignatureException', message);
const invalid = (message) => new Refusal(403, 'InvalidSignatureException', message);

/** 20240102T030405Z, the X-Amz-Date format. */
export function amzDate(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseAmzDate(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`, refusing with AWS's
 * IncompleteSignatureException wording when a part is missing or malformed.
 */
function parseAuthorization(auth, headers) {
  const space = auth.search(/\s/);
  const algorithm = space < 0 ? auth : auth.slice(0, space);
  const rest = space < 0 ? '' : auth.slice(space + 1).trim();
  const params = {};
  if (space >= 0 && rest !== '') {
    for (const part of rest.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq < 0) throw incomplete(`'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${auth}'.`);
      params[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  const missing = [];
  if (!params.Credential) missing.push("Authorization header requires 'Credential' parameter.");
  if (!params.Signature) missing.push("Authorization header requires 'Signature' parameter.");
  if (!params.SignedHeaders) missing.push("Authorization header requires 'SignedHeaders' parameter.");
  if (headers['x-amz-date'] === undefined && headers.date === undefined) {
    missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (missing.length) throw incomplete(`${missing.join(' ')} Authorization=${auth}`);
  if (algorithm !== ALGORITHM_IDENTIFIER) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`);
  return { credential: params.Credential, signedHeaders: params.SignedHeaders, signature: params.Signature };
}

/** The request as the signer sees it: the path decoded per segment (the signer escapes it again). */
function signableRequest({ method, url, headers, body, signed }) {
  const u = new URL(url, 'http://placeholder');
  const query = {};
  for (const [k, v] of u.searchParams) {
    if (k in query) query[k] = [].concat(query[k], v);
    else query[k] = v;
  }
  const path = u.pathname.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  }).join('/');
  const only = {};
  for (const name of signed) only[name] = String(headers[name]);
  return { method, protocol: 'http:', hostname: 'placeholder', path, query, headers: only, body };
}

/**
 * Verifies the request's SigV4 signature. Resolves to the key's record from `lookup` (the
 * credentials the Identity Pool issued) or throws a Refusal.
 *
 *   method, url (path and query as received), headers (Node's lower-cased), body (Buffer)
 *   region, service: what the endpoint expects in the credential scope
 *   lookup(accessKeyId) -> { secretAccessKey, sessionToken, expiresAt (ms) } | null
 */
export async function verifySigV4({ method, url, headers, body, region, service, lookup, now = Date.now() }) {
  const auth = headers.authorization;
  if (auth === undefined || String(auth).trim() === '') {
    throw new Refusal(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const { credential, signedHeaders, signature } = parseAuthorization(String(auth), headers);

  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5) {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scopeParts;

  const signed = signedHeaders.split(';');
  for (const name of signed) {
    if (headers[name] === undefined) throw incomplete(`'${name}' is named as a SignedHeader, but it does not exist in the HTTP request.`);
  }
  if (!signed.includes('host')) throw invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  // Only X-Amz-Date is supported as the signing time (every AWS SDK and Amplify send it).
  const dateValue = headers['x-amz-date'];
  const signedAt = parseAmzDate(dateValue);
  if (signedAt === null) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${dateValue ?? headers.date}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }

  if (scopeDate !== dateValue.slice(0, 8)) {
    throw invalid(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateValue.slice(0, 8)}', from '${dateValue}'.`);
  }
  if (scopeRegion !== region) throw invalid(`Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  if (scopeService !== service) throw invalid(`Credential should be scoped to correct service: '${service}'. `);
  if (terminator !== 'aws4_request') throw invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `);

  if (signedAt < now - FIVE_MINUTES) {
    throw new Refusal(400, 'BadRequestException', `Signature expired: ${dateValue} is now earlier than ${amzDate(now - FIVE_MINUTES)} (${amzDate(now)} - 5 min.)`);
  }
  if (signedAt > now + FIVE_MINUTES) {
    throw new Refusal(400, 'BadRequestException', `Signature not yet current: ${dateValue} is still later than ${amzDate(now + FIVE_MINUTES)} (${amzDate(now)} + 5 min.)`);
  }

  const record = lookup(accessKeyId);
  const token = headers['x-amz-security-token'];
  // Temporary credentials are valid only with the session token they were issued with.
  if (!record || (record.sessionToken && token !== record.sessionToken) || (!record.sessionToken && token !== undefined)) {
    throw new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (record.expiresAt !== undefined && record.expiresAt <= now) {
    throw new Refusal(403, 'ExpiredTokenException', 'The security token included in the request is expired');
  }

  // The client's signature, recomputed with AWS's signer over exactly the signed headers.
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: record.secretAccessKey },
    region: scopeRegion,
    service: scopeService,
    sha256: Sha256,
    applyChecksum: false,
  });
  const request = signableRequest({ method, url, headers, body, signed });
  const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signed));
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonicalRequest = signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  const scope = createScope(scopeDate, scopeRegion, scopeService);
  const expected = await signer.getSignature(dateValue, scope, signer.getSigningKey({ accessKeyId, secretAccessKey: record.secretAccessKey }, scopeRegion, scopeDate, scopeService), canonicalRequest);

  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    const stringToSign = await signer.createStringToSign(dateValue, scope, canonicalRequest, ALGORITHM_IDENTIFIER);
    throw invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
      + `\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { accessKeyId, record };
}
