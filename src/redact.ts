/**
 * Secrets never reach output, logs, lockfiles or packages. Hugging Face user access tokens start with `hf_`
 * (https://huggingface.co/docs/hub/security-tokens); we also mask the value of any Authorization header or
 * `token=` parameter that slips into a message.
 */
const HF_TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{6,}\b/g;
const BEARER_PATTERN = /(Bearer\s+)[^\s"']+/gi;
const TOKEN_PARAM_PATTERN = /([?&](?:token|access_token)=)[^&\s"']+/gi;
/** The signature parameters of a presigned URL (CloudFront's, as Meta's download links, and S3's). */
const SIGNED_URL_PARAM_PATTERN = /([?&](?:Policy|Signature|Key-Pair-Id|Expires|X-Amz-[A-Za-z-]+)=)[^&\s"']+/g;

const registered = new Set<string>();

/** Make an exact secret value (for example a token that does not start with hf_) known to the redactor. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) registered.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of registered) out = out.split(secret).join('***');
  return out.replace(HF_TOKEN_PATTERN, 'hf_***').replace(BEARER_PATTERN, '$1***').replace(TOKEN_PARAM_PATTERN, '$1***').replace(SIGNED_URL_PARAM_PATTERN, '$1***');
}
