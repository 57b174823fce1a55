/**
 * The license catalog: one entry per license version, as data. Every check in checks.ts is written once and reads
 * these fields; adding a license version is adding an entry here (plus its verbatim files under
 * templates/licenses/<id>/ when a byte-exact upstream copy exists).
 *
 * Facts and their sources: ../shared/research/licenses.md (section numbers in comments, "§n" there) and the texts
 * in templates/licenses/ (PROVENANCE.md per folder). Section labels follow each text's own numbering; Meta AUP
 * items are cited by the lettered scheme (1.a.i), never by the repo files' raw Markdown numbers (§9.9).
 */

/** How the derivative reached an ancestor: by using its weights (materials) or only its outputs. */
export type Via = 'materials' | 'outputs';

export type LicenseFamily = 'llama' | 'qwen' | 'deepseek' | 'gemma' | 'permissive';

export interface LicenseTextFile {
  /** `license` or `use-policy` (Meta's AUP; Gemma's Prohibited Use Policy). */
  role: 'license' | 'use-policy';
  /** Path under templates/licenses/, or null when no byte-exact upstream copy exists (never emitted). */
  template: string | null;
  /** sha256 of the template bytes (checked against SHA256SUMS by the tests). */
  sha256: string | null;
  /** sha256 of the normalised words (normalize.ts): equal for formatting variants of the same text. */
  fingerprint: string;
  /** MinHash of the normalised text, to recognise a near match without holding the text. */
  minhash?: readonly number[];
  /** Other texts accepted as this one: older upstream revisions with a known, harmless wording change. */
  variants?: ReadonlyArray<{ fingerprint: string; note: string }>;
  /** Where the data came from, when not a template. */
  source?: string;
}

export interface NoticeRule {
  /** The exact sentence, as printed in the license. */
  sentence: string;
  section: string;
  /** Whether a model built only from outputs must carry it too (Gemma: output-distilled models are derivatives). */
  via: readonly Via[];
  /** Gemma: "All Distributions (other than through a Hosted Service)". */
  notForHostedOnly: boolean;
}

export interface NamingRule {
  /** The name must begin with this (separators between its words may be spaces, hyphens, underscores, dots). */
  prefix: string;
  section: string;
  via: readonly Via[];
  quote: string;
}

export interface BuiltWithRule {
  /** Any one of these satisfies the rule. */
  phrases: readonly string[];
  section: string;
  via: readonly Via[];
  where: string;
}

export interface UserThresholdRule {
  /** A figure strictly greater than this triggers the clause ("greater than" / "more than"). */
  threshold: number;
  /** `release-month`: the calendar month before `anchorDate` (Meta §2); `current`: an ongoing test (Qwen §4). */
  measure: 'release-month' | 'current';
  /** The version date the month is measured against (Llama 4: its effective date; the text says "release date"). */
  anchorDate?: string;
  /** Who counts: the licensee and its affiliates (Meta), or "your product or service" (Qwen/Tongyi). */
  scope: 'licensee-and-affiliates' | 'product-or-service';
  /** Only when used commercially (Qwen/Tongyi). */
  commercialOnly: boolean;
  section: string;
  quote: string;
}

export interface OutputsRule {
  /** `forbid-other-llm`: outputs may not improve any other LLM except derivatives of this same version. */
  kind: 'forbid-other-llm';
  section: string;
  quote: string;
}

export interface FlowDownRule {
  /** Use restrictions must be passed on as an enforceable provision (Gemma §3.1, DeepSeek §4.a). */
  useRestrictions?: string;
  /** Modified files must carry prominent notices (Gemma, Qwen, Tongyi, DeepSeek). */
  modifiedFiles?: string;
  /** A copy of the agreement goes to every recipient. */
  copyOfAgreement: string;
  /** Output-distilled models are derivatives, so the duties reach them too (Gemma §1.1(e), DeepSeek §1). */
  throughOutputs: boolean;
  /**
   * Whether to remind (advisory) that the copy must come from the base repo when llama-dist has no text to emit.
   * False for permissive licenses, whose copies carry each holder's own notice: the base repo's file is the copy.
   */
  remindCopyFromBase: boolean;
}

export interface AupItem {
  /** A catalog category id (AUP_CATEGORIES). */
  category: string;
  /** The label to cite in this version's policy. */
  label: string;
  /** The prohibition depends on facts the tool cannot see (e.g. "unlicensed" practice): advisory, not blocking. */
  conditional?: boolean;
}

export interface UsePolicy {
  name: string;
  url: string;
  /** The clause of the license that incorporates the policy (Meta §1.b.iv, Gemma §3.1 item 1, DeepSeek §4.a). */
  incorporatedBy: string;
  items: readonly AupItem[];
}

export interface EuMultimodalRule {
  section: string;
  /** The rights the clause withholds, as the text names them. */
  withheld: string;
  quote: string;
}

export interface LicenseEntry {
  id: string;
  name: string;
  /** The short name used in citations ("Llama 3.1"). */
  short: string;
  family: LicenseFamily;
  /** Hugging Face `license:` ids and `license_name:` values that mean this license. */
  hfIds: readonly string[];
  hfLicenseNames: readonly string[];
  /** SPDX id (permissive only) or a LicenseRef (ScanCode's where it exists, else ours). */
  spdx: string;
  /** YYYY-MM-DD as printed in the text; null when the text carries no date (MIT). */
  date: string | null;
  dateKind: 'release' | 'effective' | 'version' | 'last-modified';
  licensor: string;
  /** false: non-commercial / research only. */
  commercialUse: boolean;
  commercialSection?: string;
  notice: NoticeRule | null;
  naming: NamingRule | null;
  builtWith: BuiltWithRule | null;
  users: UserThresholdRule | null;
  outputs: OutputsRule | null;
  flowDown: FlowDownRule;
  usePolicy: UsePolicy | null;
  euMultimodal: EuMultimodalRule | null;
  texts: readonly LicenseTextFile[];
  /**
   * Phrase groups that identify a text when no fingerprint exists (permissive licenses carry no text here): the text
   * is this license when every phrase of any one group occurs in its normalised words.
   */
  markers?: ReadonlyArray<readonly string[]>;
  /** Caveats on the data (tier of the source, open questions). */
  notes?: readonly string[];
}

/** Categories of prohibited use, shared across policies so that one intended use maps to each version's label. */
export const AUP_CATEGORIES: Readonly<Record<string, { title: string; keywords: readonly string[] }>> = {
  'violence-terrorism': { title: 'Violence or terrorism', keywords: ['terrorism', 'terrorist', 'violent extremism'] },
  'child-exploitation': { title: 'Exploitation or harm to children, CSAM', keywords: ['csam', 'child sexual', 'child exploitation'] },
  'human-trafficking': { title: 'Human trafficking, exploitation, sexual violence', keywords: ['human trafficking', 'sexual violence'] },
  'minors-distribution': { title: 'Illegal distribution of information or materials to minors', keywords: ['age-restricted content to minors'] },
  'sexual-solicitation': { title: 'Sexual solicitation', keywords: ['sexual solicitation'] },
  'criminal-activity': { title: 'Other criminal activity or law violation', keywords: ['criminal activity', 'commit crimes', 'illegal activity'] },
  harassment: { title: 'Harassment, abuse, threatening or bullying', keywords: ['harassment', 'harass', 'bullying', 'cyberbullying'] },
  discrimination: { title: 'Discrimination in employment, credit, housing or essential services', keywords: ['discriminat', 'credit scoring', 'tenant screening'] },
  'unlicensed-practice': { title: 'Unauthorized or unlicensed practice of a profession (legal, medical, financial)', keywords: ['legal advice', 'medical advice', 'financial advice', 'medical diagnosis', 'diagnosis', 'investment advice'] },
  'sensitive-data': { title: 'Collecting or processing sensitive personal information without rights', keywords: ['personal data', 'biometric', 'health records', 'pii'] },
  infringement: { title: 'Infringing third-party rights', keywords: ['infringe', 'piracy', 'pirated'] },
  malware: { title: 'Malicious code or impairing computer systems', keywords: ['malware', 'ransomware', 'virus', 'exploit development', 'phishing'] },
  circumvention: { title: 'Circumventing usage restrictions or safety measures', keywords: ['jailbreak', 'circumvent safety', 'remove safety', 'uncensored'] },
  military: { title: 'Military, warfare, nuclear industries, espionage', keywords: ['military', 'warfare', 'espionage', 'nuclear', 'defense targeting', 'battlefield'] },
  weapons: { title: 'Guns and illegal weapons', keywords: ['weapon', 'firearm', 'guns', 'explosive'] },
  'illegal-drugs': { title: 'Illegal drugs and regulated controlled substances', keywords: ['illegal drug', 'controlled substance', 'narcotic'] },
  'critical-infrastructure': { title: 'Operation of critical infrastructure, transportation technologies or heavy machinery', keywords: ['critical infrastructure', 'power grid', 'autonomous driving', 'heavy machinery', 'air traffic'] },
  'self-harm': { title: 'Self-harm or harm to others (suicide, cutting, eating disorders)', keywords: ['self-harm', 'suicide', 'eating disorder'] },
  'incite-violence': { title: 'Content intended to incite or promote violence', keywords: ['incite violence', 'promote violence'] },
  fraud: { title: 'Fraud, scams, deception', keywords: ['fraud', 'scam'] },
  disinformation: { title: 'Disinformation, verifiably false information', keywords: ['disinformation', 'misinformation', 'propaganda', 'fake news'] },
  defamation: { title: 'Defamatory content', keywords: ['defamation', 'defamatory', 'libel'] },
  spam: { title: 'Spam', keywords: ['spam', 'bulk unsolicited'] },
  impersonation: { title: 'Impersonating another individual without consent', keywords: ['impersonat', 'deepfake'] },
  'ai-as-human': { title: 'Representing AI outputs as human-generated', keywords: ['pass as human', 'posing as a human', 'undisclosed ai'] },
  'fake-engagement': { title: 'Fake online engagement, fake reviews', keywords: ['fake reviews', 'fake engagement', 'astroturf', 'sock puppet'] },
  'undisclosed-dangers': { title: 'Failing to disclose known dangers of the AI system to end users', keywords: [] },
  'unlawful-tools': { title: 'Interacting with third-party tools designed for unlawful content, or representing outputs as Meta/Llama', keywords: [] },
  surveillance: { title: 'Tracking or monitoring people without consent', keywords: ['surveillance', 'tracking people', 'monitoring employees', 'facial recognition'] },
  'automated-decisions': { title: 'Automated decisions affecting material or legal rights', keywords: ['automated decision', 'loan approval', 'hiring decision', 'insurance underwriting'] },
  'sexual-content': { title: 'Sexually explicit content', keywords: ['sexually explicit', 'pornograph', 'nsfw', 'adult content', 'sexual chatbot'] },
  'exploit-vulnerable': { title: 'Exploiting vulnerabilities of a group (age, social, physical or mental characteristics)', keywords: [] },
  'medical-advice': { title: 'Medical advice and medical results interpretation', keywords: ['medical advice', 'medical results'] },
};

// Meta AUP items, lettered scheme (licenses.md §2.3). L2–3.1 share one list; 3.2+ add 1.h and 5.
const META_AUP_BASE: readonly AupItem[] = [
  { category: 'violence-terrorism', label: '1.a.i' },
  { category: 'child-exploitation', label: '1.a.ii' },
  { category: 'human-trafficking', label: '1.a.iii' },
  { category: 'minors-distribution', label: '1.a.iv' },
  { category: 'sexual-solicitation', label: '1.a.v' },
  { category: 'criminal-activity', label: '1.a.vi' },
  { category: 'harassment', label: '1.b' },
  { category: 'discrimination', label: '1.c' },
  { category: 'unlicensed-practice', label: '1.d', conditional: true },
  { category: 'sensitive-data', label: '1.e', conditional: true },
  { category: 'infringement', label: '1.f' },
  { category: 'malware', label: '1.g' },
  { category: 'military', label: '2.a' },
  { category: 'weapons', label: '2.b' },
  { category: 'illegal-drugs', label: '2.c' },
  { category: 'critical-infrastructure', label: '2.d' },
  { category: 'self-harm', label: '2.e' },
  { category: 'incite-violence', label: '2.f' },
  { category: 'fraud', label: '3.a' },
  { category: 'disinformation', label: '3.a' },
  { category: 'defamation', label: '3.b' },
  { category: 'spam', label: '3.c' },
  { category: 'impersonation', label: '3.d' },
  { category: 'ai-as-human', label: '3.e' },
  { category: 'fake-engagement', label: '3.f' },
  { category: 'undisclosed-dangers', label: '4' },
];
const META_AUP_32: readonly AupItem[] = [
  ...META_AUP_BASE,
  { category: 'circumvention', label: '1.h' },
  { category: 'unlawful-tools', label: '5' },
];

// Gemma Prohibited Use Policy, Feb 21, 2024 (licenses.md §3.1; Tier B transcription).
const GEMMA_PUP: readonly AupItem[] = [
  { category: 'infringement', label: '1' },
  { category: 'child-exploitation', label: '2.a.i' },
  { category: 'illegal-drugs', label: '2.a.ii' },
  { category: 'criminal-activity', label: '2.a.iii' },
  { category: 'violence-terrorism', label: '2.a.iv' },
  { category: 'unlicensed-practice', label: '2.b', conditional: true },
  { category: 'spam', label: '2.c.i' },
  { category: 'fraud', label: '2.c.ii' },
  { category: 'malware', label: '2.c.ii' },
  { category: 'circumvention', label: '2.d' },
  { category: 'harassment', label: '2.e.ii' },
  { category: 'incite-violence', label: '2.e.iii' },
  { category: 'self-harm', label: '2.e.iv' },
  { category: 'sensitive-data', label: '2.e.viii', conditional: true },
  { category: 'surveillance', label: '2.e.vi', conditional: true },
  { category: 'discrimination', label: '2.e.vii' },
  { category: 'ai-as-human', label: '3.a' },
  { category: 'impersonation', label: '3.b' },
  { category: 'automated-decisions', label: '3.d', conditional: true },
  { category: 'defamation', label: '3.e' },
  { category: 'sexual-content', label: '4', conditional: true },
];

// DeepSeek License Agreement, Attachment A (unnumbered bullets; cited by position, licenses.md §5).
const DEEPSEEK_ATTACHMENT_A: readonly AupItem[] = [
  { category: 'criminal-activity', label: 'Attachment A item 1' },
  { category: 'military', label: 'Attachment A item 2' },
  { category: 'child-exploitation', label: 'Attachment A item 3' },
  { category: 'disinformation', label: 'Attachment A item 4' },
  { category: 'sensitive-data', label: 'Attachment A item 6', conditional: true },
  { category: 'defamation', label: 'Attachment A item 7' },
  { category: 'harassment', label: 'Attachment A item 7' },
  { category: 'automated-decisions', label: 'Attachment A item 8', conditional: true },
  { category: 'discrimination', label: 'Attachment A items 9 and 11' },
  { category: 'exploit-vulnerable', label: 'Attachment A item 10' },
];

const META_LICENSOR = 'Meta Platforms, Inc. (Meta Platforms Ireland Limited in the EEA and Switzerland)';

interface MetaSpec {
  id: string;
  short: string;
  name: string;
  spdx: string;
  date: string;
  dateKind: 'release' | 'effective';
  notice: string;
  aupUrl: string;
  aupItems: readonly AupItem[];
  eu: boolean;
  /** §1.b.i's naming sentence (none in Llama 2; "Llama 3", materials only, in Llama 3; "Llama", outputs too, from 3.1). */
  naming: NamingRule | null;
  /** §1.b.i(B)'s "Built with" phrase (none in Llama 2). */
  builtWith: string | null;
  /** §1.b.v: the version its ban on improving other LLMs excludes (Llama 2, Llama 3); null where the clause is absent. */
  outputsBanExcept: string | null;
  license: { sha256: string; fingerprint: string; variants?: LicenseTextFile['variants'] };
  policy: { sha256: string; fingerprint: string };
  notes?: readonly string[];
}

// §1.b.i naming sentences (licenses.md §2.1): Llama 3's covers only use of the materials; 3.1+ add "outputs or results".
const LLAMA3_NAMING: NamingRule = { prefix: 'Llama 3', section: '§1.b.i', via: ['materials'], quote: 'you shall also include “Llama 3” at the beginning of any such AI model name' };
const LLAMA31_NAMING: NamingRule = { prefix: 'Llama', section: '§1.b.i', via: ['materials', 'outputs'], quote: 'If you use the Llama Materials or any outputs or results of the Llama Materials to create, train, fine tune, or otherwise improve an AI model, which is distributed or made available, you shall also include “Llama” at the beginning of any such AI model name.' };

/** The Meta entries share their clause structure; the differences are data (licenses.md §2.1). */
function metaEntry(spec: MetaSpec): LicenseEntry {
  return {
    id: spec.id,
    name: spec.name,
    short: spec.short,
    family: 'llama',
    hfIds: [spec.id],
    hfLicenseNames: [spec.id, `${spec.id}-community-license`, `${spec.id.replace('.', '_')}`],
    spdx: spec.spdx,
    date: spec.date,
    dateKind: spec.dateKind,
    licensor: META_LICENSOR,
    commercialUse: true,
    notice: { sentence: spec.notice, section: '§1.b.iii', via: ['materials'], notForHostedOnly: false },
    naming: spec.naming,
    builtWith: spec.builtWith === null
      ? null
      : { phrases: [spec.builtWith], section: '§1.b.i(B)', via: ['materials'], where: 'a related website, user interface, blogpost, about page, or product documentation' },
    users: {
      threshold: 700_000_000,
      measure: 'release-month',
      anchorDate: spec.date,
      scope: 'licensee-and-affiliates',
      commercialOnly: false,
      section: '§2',
      quote: `If, on the ${spec.short} version release date, the monthly active users of the products or services made available by or for Licensee, or Licensee’s affiliates, is greater than 700 million monthly active users in the preceding calendar month, you must request a license from Meta`,
    },
    outputs: spec.outputsBanExcept === null
      ? null
      : { kind: 'forbid-other-llm', section: '§1.b.v', quote: `You will not use the Llama Materials or any output or results of the Llama Materials to improve any other large language model (excluding ${spec.outputsBanExcept} or derivative works thereof).` },
    flowDown: { copyOfAgreement: '§1.b.i', throughOutputs: false, remindCopyFromBase: true },
    usePolicy: { name: `${spec.short} Acceptable Use Policy`, url: spec.aupUrl, incorporatedBy: '§1.b.iv', items: spec.aupItems },
    euMultimodal: spec.eu
      ? { section: 'Acceptable Use Policy, closing paragraph', withheld: 'the §1(a) rights', quote: `With respect to any multimodal models included in ${spec.short}, the rights granted under Section 1(a) of the ${spec.short} Community License Agreement are not being granted to you if you are an individual domiciled in, or a company with a principal place of business in, the European Union. This restriction does not apply to end users of a product or service that incorporates any such multimodal models.` }
      : null,
    texts: [
      { role: 'license', template: `${spec.id}/LICENSE.txt`, sha256: spec.license.sha256, fingerprint: spec.license.fingerprint, ...(spec.license.variants ? { variants: spec.license.variants } : {}) },
      { role: 'use-policy', template: `${spec.id}/USE_POLICY.md`, sha256: spec.policy.sha256, fingerprint: spec.policy.fingerprint },
    ],
    notes: spec.notes ?? [],
  };
}

const QWEN_FLOW: FlowDownRule = { modifiedFiles: '§3.b', copyOfAgreement: '§3.a', throughOutputs: false, remindCopyFromBase: true };

export const CATALOG: readonly LicenseEntry[] = [
  metaEntry({
    id: 'llama2', short: 'Llama 2', name: 'Llama 2 Community License Agreement', spdx: 'LicenseRef-scancode-llama-2-license-2023',
    date: '2023-07-18', dateKind: 'release', aupUrl: 'https://ai.meta.com/llama/use-policy', aupItems: META_AUP_BASE, eu: false,
    naming: null, builtWith: null, outputsBanExcept: 'Llama 2',
    notice: 'Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta Platforms, Inc. All Rights Reserved.',
    license: {
      sha256: 'f28d05612fee8ef09283d4e755c468080b13d1cd92c9ae1aa52c84b075799e23',
      fingerprint: '505070151bdd64f0a1567524037559208237a2e3fedb03e13a0901b5cc664f1c',
      // meta-llama/llama LICENSE @ 6d4c0c29 (2023-07-18): "constitutes infringement", fixed to "an infringement" on 2023-07-21 (llama2/PROVENANCE.md).
      variants: [{ fingerprint: '11a047c4da18e83a1b8b9c07a64ecb48ff04e2f1c1bc5e158e1116af0d318066', note: 'first published revision (2023-07-18): §5.c "constitutes infringement"' }],
    },
    policy: { sha256: '7c23fb36d80141c4ab8cdbb61ee4790102ebd2bf7aeff414453177d4f2110e5d', fingerprint: '11b47698a749ede5969d9c471beed09d09c8696e0d77e01f7bfaac8a9cd104b3' },
  }),
  metaEntry({
    id: 'llama3', short: 'Meta Llama 3', name: 'Meta Llama 3 Community License Agreement', spdx: 'LicenseRef-llama-dist-meta-llama-3-community-license',
    date: '2024-04-18', dateKind: 'release', aupUrl: 'https://llama.meta.com/llama3/use-policy', aupItems: META_AUP_BASE, eu: false,
    naming: LLAMA3_NAMING, builtWith: 'Built with Meta Llama 3', outputsBanExcept: 'Meta Llama 3',
    notice: 'Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    license: { sha256: '4fa551d4f938f68b8c1e6afa9d28befb70e3f33f75d0753248d530364aeea40f', fingerprint: '725f1767b1f46d9bc5d78eeb98760deb971eb466d12022ae62ce6af02855cae6' },
    policy: { sha256: '716a6b46e9bc75220c7b78f27382f7d0b8ca4c95818661a0936c081708f87f7c', fingerprint: '6f91d6aaa3bc5ad55adfe9cfe5422591e4899014cee19fef8f3ba08fe9a3dc09' },
  }),
  metaEntry({
    id: 'llama3.1', short: 'Llama 3.1', name: 'Llama 3.1 Community License Agreement', spdx: 'LicenseRef-scancode-llama-3.1-license-2024',
    date: '2024-07-23', dateKind: 'release', aupUrl: 'https://llama.meta.com/llama3_1/use-policy', aupItems: META_AUP_BASE, eu: false,
    naming: LLAMA31_NAMING, builtWith: 'Built with Llama', outputsBanExcept: null,
    notice: 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    license: { sha256: 'bf2eac60b81e5c5f779fc3b4849d3bfacfd63f97f3eb68b44e9c6868c5801712', fingerprint: '5e74b789f86755817fb8cf6cfc2b611a1e7ea7dfdce0c05edd2925e18f0f77a3' },
    policy: { sha256: 'f456a3f5b15ab588c84d06cf095a245bfee0bbc1620b48ed00af2cca4a711735', fingerprint: '7713d5e80311e58ade8e3a212431d212a8fdf2f45ff384ef0c74412101be3647' },
  }),
  metaEntry({
    id: 'llama3.2', short: 'Llama 3.2', name: 'Llama 3.2 Community License Agreement', spdx: 'LicenseRef-scancode-llama-3.2-license-2024',
    date: '2024-09-25', dateKind: 'release', aupUrl: 'https://www.llama.com/llama3_2/use-policy', aupItems: META_AUP_32, eu: true,
    naming: LLAMA31_NAMING, builtWith: 'Built with Llama', outputsBanExcept: null,
    notice: 'Llama 3.2 is licensed under the Llama 3.2 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    license: { sha256: '8cc15535a8a34b41888f644b339a1a9eb428af793a4f5e24df58a3e5b1487d74', fingerprint: 'f645f50148a575176cbdbe565f87600d5d9b76a33389704b6bf71f69c8dbd731' },
    policy: { sha256: '40e2777d7faa6beaf98400654170f414d8ab29b921b5163ad4ea0a1d39894201', fingerprint: '1380448ce8389de3885b3ce52e1ea860155a146c29c06ec24697f46c8b9c1a7f' },
  }),
  metaEntry({
    id: 'llama3.3', short: 'Llama 3.3', name: 'Llama 3.3 Community License Agreement', spdx: 'LicenseRef-scancode-llama-3.3-license-2024',
    date: '2024-12-06', dateKind: 'release', aupUrl: 'https://www.llama.com/llama3_3/use-policy', aupItems: META_AUP_32, eu: true,
    naming: LLAMA31_NAMING, builtWith: 'Built with Llama', outputsBanExcept: null,
    notice: 'Llama 3.3 is licensed under the Llama 3.3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    license: { sha256: 'fb58d9a630ccc1dc0d08f8c00232de56bc73309020f59c8181d0c12ef28d9f8c', fingerprint: '3924c2d30b89289cc1ae04b688aade24f0293a1b68e059b61443fac084c2f46a' },
    policy: { sha256: 'fac148bfbd9f515b3a7a9885d5d324187cd2ef9e2dcc9cdde49ef248695f3e07', fingerprint: '88a4e77608334df8a8523e636842ce5ce09dfb1ad2d965b32578338d4dbd205c' },
  }),
  metaEntry({
    id: 'llama4', short: 'Llama 4', name: 'Llama 4 Community License Agreement', spdx: 'LicenseRef-scancode-llama-4-cla-2025',
    date: '2025-04-05', dateKind: 'effective', aupUrl: 'https://www.llama.com/llama4/use-policy', aupItems: META_AUP_32, eu: true,
    naming: LLAMA31_NAMING, builtWith: 'Built with Llama', outputsBanExcept: null,
    notes: ['The text defines an Effective Date (April 5, 2025) while §2 speaks of the "version release date"; the effective date is used for the MAU month (licenses.md §1, §9.6).'],
    notice: 'Llama 4 is licensed under the Llama 4 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    license: { sha256: '6b346865267ef58a4592287a99e9417178223c9300e9da361ce7801be6dea61f', fingerprint: '8274590ff7a1890123cf84367bfe8c01ae6cb59a68203628209f25de52efe88c' },
    policy: { sha256: 'bbf009b29f1dc413c2b3c9abb12637b0cdffa350cd0a3bd6eba89b270fc9e83f', fingerprint: 'bb44e3b589f000af8a2680a8addd8ba91fabfa00eb8e632091c743659baf691a' },
  }),
  {
    id: 'tongyi-qianwen',
    name: 'Tongyi Qianwen LICENSE AGREEMENT',
    short: 'Tongyi Qianwen',
    family: 'qwen',
    hfIds: [],
    hfLicenseNames: ['tongyi-qianwen', 'tongyi-qianwen-license', 'tongyi-qianwen-license-agreement'],
    spdx: 'LicenseRef-scancode-tongyi-qianwen-2023',
    date: '2023-08-03',
    dateKind: 'release',
    licensor: 'Alibaba Cloud',
    commercialUse: true,
    notice: { sentence: 'Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved.', section: '§3.c', via: ['materials'], notForHostedOnly: false },
    naming: null,
    builtWith: null,
    users: {
      threshold: 100_000_000, measure: 'current', scope: 'product-or-service', commercialOnly: true, section: '§4',
      quote: 'If you are commercially using the Materials, and your product or service has more than 100 million monthly active users, You shall request a license from Us.',
    },
    outputs: { kind: 'forbid-other-llm', section: '§5.b', quote: 'You can not use the Materials or any output therefrom to improve any other large language model (excluding Tongyi Qianwen or derivative works thereof).' },
    flowDown: QWEN_FLOW,
    usePolicy: null,
    euMultimodal: null,
    texts: [{ role: 'license', template: 'tongyi-qianwen/LICENSE.txt', sha256: '7c7b8e244f6aa1ac8c32b74f56d42c41a0364dd2dabed8d9c6030a862e805b54', fingerprint: '76c826605dbeef3bf72506415f2ec690fb2779a618d4dcffaa4fb09123b4288d' }],
  },
  {
    id: 'tongyi-qianwen-research',
    name: 'Tongyi Qianwen RESEARCH LICENSE AGREEMENT',
    short: 'Tongyi Qianwen Research',
    family: 'qwen',
    hfIds: [],
    hfLicenseNames: ['tongyi-qianwen-research', 'tongyi-qianwen-research-license', 'tongyi-qianwen-research-license-agreement'],
    spdx: 'LicenseRef-llama-dist-tongyi-qianwen-research-2023',
    date: '2023-11-30',
    dateKind: 'release',
    licensor: 'Alibaba Cloud',
    commercialUse: false,
    commercialSection: '§2',
    notice: { sentence: 'Tongyi Qianwen is licensed under the Tongyi Qianwen RESEARCH LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved.', section: '§3.c', via: ['materials'], notForHostedOnly: false },
    naming: null,
    builtWith: null,
    users: null,
    outputs: { kind: 'forbid-other-llm', section: '§4.b', quote: 'You can not use the Materials or any output therefrom to improve any other large language model (excluding Tongyi Qianwen or derivative works thereof).' },
    flowDown: QWEN_FLOW,
    usePolicy: null,
    euMultimodal: null,
    texts: [{ role: 'license', template: 'tongyi-qianwen-research/LICENSE.txt', sha256: '41f3a23ef5ca5bf9dec082e2f0da6a9c74b69e24d15b7baa8a8e9dd2edf7cf63', fingerprint: '833d6d7466671d563ad3c1105479072be0f7ea57203d242efa91b40ca3ac2a11' }],
  },
  {
    id: 'qwen',
    name: 'Qwen LICENSE AGREEMENT',
    short: 'Qwen (2024)',
    family: 'qwen',
    hfIds: [],
    hfLicenseNames: ['qwen', 'qwen-license', 'qwen-license-agreement'],
    spdx: 'LicenseRef-scancode-qwen-2024',
    date: '2024-09-19',
    dateKind: 'release',
    licensor: 'Alibaba Cloud',
    commercialUse: true,
    notice: { sentence: 'Qwen is licensed under the Qwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved.', section: '§3.c', via: ['materials'], notForHostedOnly: false },
    naming: null,
    builtWith: { phrases: ['Built with Qwen', 'Improved using Qwen'], section: '§5.b', via: ['materials', 'outputs'], where: 'the related product documentation' },
    users: {
      threshold: 100_000_000, measure: 'current', scope: 'product-or-service', commercialOnly: true, section: '§4',
      quote: 'If you are commercially using the Materials, and your product or service has more than 100 million monthly active users, you shall request a license from Us.',
    },
    outputs: null,
    flowDown: QWEN_FLOW,
    usePolicy: null,
    euMultimodal: null,
    texts: [{
      role: 'license', template: null, sha256: null,
      fingerprint: '17b27db6aaf3133b2fbca987b27e0f5c986b4e55c7247697f2900c111fe9f22f',
      minhash: [182731, 1103266, 5704935, 1470693, 6750569, 1752902, 2447033, 4855047, 2345488, 5773791, 622796, 1243315, 502715, 3574064, 11282282, 5507826, 1928179, 9421617, 1936890, 1235606, 4896257, 2120502, 1010755, 66435, 6197744, 5510521, 1330864, 7009973, 2732469, 1705285, 1182072, 1212192, 6516870, 1627770, 26221289, 2953221, 12362790, 504276, 9456238, 2202541, 872311, 6415914, 16041, 2685092, 6665829, 12427627, 3273589, 244189, 303667, 6328349, 637616, 5264690, 574538, 2271743, 296986, 1707155, 10456810, 2379849, 5649585, 3140568, 601936, 19192462, 3736893, 955225],
      source: 'ScanCode LicenseDB transcription qwen-2024 (third-party, Tier B): shared/licenses/qwen/. Fingerprint only; the text is never emitted.',
    }],
    notes: ['No byte-exact upstream copy exists here: a LICENSE from the model repo is recognised by similarity, and the package must take the LICENSE from the base model repo rather than from this tool.'],
  },
  {
    id: 'qwen-research',
    name: 'Qwen RESEARCH LICENSE AGREEMENT',
    short: 'Qwen Research (2024)',
    family: 'qwen',
    hfIds: [],
    hfLicenseNames: ['qwen-research', 'qwen-research-license', 'qwen-research-license-agreement'],
    spdx: 'LicenseRef-llama-dist-qwen-research-2024',
    date: '2024-09-19',
    dateKind: 'release',
    licensor: 'Alibaba Cloud',
    commercialUse: false,
    commercialSection: '§2',
    notice: null,
    naming: null,
    builtWith: null,
    users: null,
    outputs: null,
    flowDown: QWEN_FLOW,
    usePolicy: null,
    euMultimodal: null,
    texts: [],
    notes: ['Known only from secondary sources (licenses.md §1, Tier C): no text, section numbers unverified, and no notice sentence is emitted for it.'],
  },
  {
    id: 'deepseek',
    name: 'DeepSeek License Agreement v1.0',
    short: 'DeepSeek License v1.0',
    family: 'deepseek',
    hfIds: [],
    hfLicenseNames: ['deepseek', 'deepseek-license', 'deepseek-license-agreement'],
    spdx: 'LicenseRef-scancode-deepseek-la-1.0',
    date: '2023-10-23',
    dateKind: 'version',
    licensor: 'DeepSeek',
    commercialUse: true,
    notice: null,
    naming: null,
    builtWith: null,
    users: null,
    outputs: null,
    flowDown: { useRestrictions: '§4.a', modifiedFiles: '§4.c', copyOfAgreement: '§4.b', throughOutputs: true, remindCopyFromBase: true },
    usePolicy: { name: 'DeepSeek License Agreement, Attachment A (Use Restrictions)', url: 'https://github.com/deepseek-ai/DeepSeek-LLM/blob/HEAD/LICENSE-MODEL', incorporatedBy: '§4.a', items: DEEPSEEK_ATTACHMENT_A },
    euMultimodal: null,
    texts: [{ role: 'license', template: 'deepseek/LICENSE.txt', sha256: 'ccfee4895df06bcab524151c278e8dde88bbe76165a24ecbcbcf9fafd71fd2b3', fingerprint: '3cf55d634f58c09698be79d61607f640f73ff77ce62c30b8da18fd5312b11324' }],
  },
  {
    id: 'gemma',
    name: 'Gemma Terms of Use',
    short: 'Gemma Terms of Use',
    family: 'gemma',
    hfIds: ['gemma'],
    hfLicenseNames: ['gemma', 'gemma-terms-of-use', 'google-gemma-terms-of-use'],
    spdx: 'LicenseRef-scancode-gemma-tou-2025-03-24',
    date: '2025-03-24',
    dateKind: 'last-modified',
    licensor: 'Google LLC',
    commercialUse: true,
    notice: { sentence: 'Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms', section: '§3.1 item 4', via: ['materials', 'outputs'], notForHostedOnly: true },
    naming: null,
    builtWith: null,
    users: null,
    outputs: null,
    flowDown: { useRestrictions: '§3.1 item 1', modifiedFiles: '§3.1 item 3', copyOfAgreement: '§3.1 item 2', throughOutputs: true, remindCopyFromBase: true },
    usePolicy: { name: 'Gemma Prohibited Use Policy', url: 'https://ai.google.dev/gemma/prohibited_use_policy', incorporatedBy: '§3.1 item 1', items: GEMMA_PUP },
    euMultimodal: null,
    texts: [
      {
        role: 'license', template: null, sha256: null,
        fingerprint: '02c38beb316603833b004932fea4bd5136cff9c7d25d84e44017c34e82686af9',
        variants: [{ fingerprint: '27cd1b8491c151365149af22662a2eec8c40fa754b7911edc2ae580354ee8a79', note: 'Gemma Terms of Use, last modified April 1, 2024 (differs only in §1.1(c))' }],
        minhash: [1467574, 1869345, 2563458, 403603, 1646813, 1428848, 465498, 608772, 2692186, 6033170, 336735, 1243315, 7712631, 8280224, 2818304, 6438256, 4871738, 684058, 2114774, 804341, 2656347, 663108, 2907111, 7309365, 7994956, 6877676, 1266718, 146685, 8766423, 16580354, 3801810, 1520261, 187510, 864558, 1803495, 404300, 457750, 593182, 2730152, 4187749, 622715, 8586888, 2276249, 4014159, 934745, 529799, 3008216, 1576481, 4893573, 2286895, 5115375, 2613640, 1991498, 2034271, 775836, 708491, 730917, 7738129, 1400592, 1499072, 3010679, 1553558, 2543629, 80499],
        source: 'ScanCode LicenseDB transcriptions gemma-tou-2025-03-24 / 2024-04-01 (third-party, Tier B): shared/licenses/gemma/. Fingerprint only; never emitted.',
      },
      {
        role: 'use-policy', template: null, sha256: null,
        fingerprint: '2a89eda445289a4423b3cef668a0b036bcb3e54f3a678c1e215be9ba89288e00',
        minhash: [3645298, 18382181, 3640400, 20142232, 11801750, 17874220, 2842852, 21055666, 7708042, 3184579, 3887182, 7712760, 5583277, 252447, 8000824, 17555826, 12934989, 17964021, 1560878, 7304763, 2143195, 989954, 10624343, 14571502, 8771141, 1932688, 5339169, 5300391, 17161129, 7345183, 3622144, 385808, 1684256, 10029468, 6508324, 7311655, 21528695, 12484238, 5278966, 6788289, 27387866, 4345795, 7558125, 22952492, 10918643, 2805187, 3852792, 958680, 5269586, 4928215, 7004484, 1389644, 623375, 5991690, 3422533, 6953660, 10162184, 7544183, 8016597, 20987943, 1081485, 15003470, 1762993, 737306],
        source: 'ScanCode LicenseDB transcription gemma-pup-2024-02-21 (third-party, Tier B). Fingerprint only; never emitted.',
      },
    ],
    notes: ['Google publishes the terms only as web pages; the package must link https://ai.google.dev/gemma/terms or carry the base repo\'s copy. There is no "Built with Gemma" duty and no user threshold in the text (licenses.md §9.17).'],
  },
  {
    id: 'apache-2.0',
    name: 'Apache License 2.0',
    short: 'Apache-2.0',
    family: 'permissive',
    hfIds: ['apache-2.0'],
    hfLicenseNames: ['apache-2.0', 'apache2', 'apache-2'],
    spdx: 'Apache-2.0',
    // "Version 2.0, January 2004" (no day printed).
    date: '2004-01-01',
    dateKind: 'version',
    licensor: 'the copyright holders of the base model',
    commercialUse: true,
    notice: null,
    naming: null,
    builtWith: null,
    users: null,
    outputs: null,
    flowDown: { modifiedFiles: '§4(b)', copyOfAgreement: '§4(a)', throughOutputs: false, remindCopyFromBase: false },
    usePolicy: null,
    euMultimodal: null,
    texts: [],
    // The full text, or the short notice recommended by its appendix ("Licensed under the Apache License, Version 2.0").
    markers: [['apache license version 2 0', 'terms and conditions for use reproduction and distribution'], ['licensed under the apache license version 2 0']],
    notes: ['§4(d): if the base model ships a NOTICE file, its attribution notices must be carried along; there is no fixed sentence.'],
  },
  {
    id: 'mit',
    name: 'MIT License',
    short: 'MIT',
    family: 'permissive',
    hfIds: ['mit'],
    hfLicenseNames: ['mit'],
    spdx: 'MIT',
    date: null,
    dateKind: 'version',
    licensor: 'the copyright holders of the base model',
    commercialUse: true,
    notice: null,
    naming: null,
    builtWith: null,
    users: null,
    outputs: null,
    flowDown: { copyOfAgreement: 'the permission notice paragraph', throughOutputs: false, remindCopyFromBase: false },
    usePolicy: null,
    euMultimodal: null,
    texts: [],
    markers: [['permission is hereby granted free of charge to any person obtaining a copy', 'the above copyright notice and this permission notice shall be included']],
    notes: ['The copyright notice and the permission notice must be included in all copies or substantial portions.'],
  },
];

const BY_ID = new Map(CATALOG.map((entry) => [entry.id, entry]));

export function getLicense(id: string): LicenseEntry | undefined {
  return BY_ID.get(id);
}

/** The catalog entry a Hugging Face card names (`license`, or `license: other` + `license_name`), if any. */
export function licenseFromHfMetadata(license: string | undefined, licenseName?: string): LicenseEntry | undefined {
  const norm = (s: string) => s.trim().toLowerCase();
  if (license !== undefined && norm(license) !== 'other' && norm(license) !== 'unknown') {
    const id = norm(license);
    return CATALOG.find((entry) => entry.hfIds.includes(id) || entry.hfLicenseNames.includes(id));
  }
  if (licenseName !== undefined) {
    const name = norm(licenseName);
    return CATALOG.find((entry) => entry.hfLicenseNames.includes(name) || entry.hfIds.includes(name));
  }
  return undefined;
}
