/**
 * Synthea-shaped FHIR R4 Bundles for tests and benchmarks, deterministic (src-shared/prng.ts):
 * one bundle per patient, as Synthea writes them — a Patient with an MRN identifier, the
 * Organization, Location, Practitioner and PractitionerRole that treated them, and per encounter
 * vital signs, conditions, medication requests, immunizations, procedures, a Claim and an
 * ExplanationOfBenefit; allergies once. Entries link by urn:uuid fullUrls. Sizes are realistic
 * (`entries`, 100–1,100), all data is made up, and every resource passes Medplum's R4 validation.
 */
import { mulberry32 } from '../../src-shared/prng';

export type BundleType = 'transaction' | 'batch' | 'collection';

export interface SyntheaOptions {
  /** Approximate number of entries (the bundle holds at least this many, rounded up to whole encounters). */
  entries?: number;
  type?: BundleType;
  /** Fixed MRN (default derived from the seed). */
  mrn?: string;
  /** Fixed patient id (default a uuid derived from the seed). */
  patientId?: string;
}

export interface FhirBundle {
  resourceType: 'Bundle';
  type: BundleType;
  entry: { fullUrl: string; resource: Record<string, unknown> & { resourceType: string; id: string }; request?: { method: string; url: string } }[];
}

const FAMILIES = ['Okafor', 'Lindqvist', 'Moreau', 'Haddad', 'Nakamura', 'Kowalski', 'Ferreira', 'Osei', 'Brennan', 'Ivanova'];
const GIVENS = ['Amara', 'Jonas', 'Lucie', 'Karim', 'Yuki', 'Marek', 'Ines', 'Kofi', 'Siobhan', 'Olga'];
const VITALS = [
  { code: '8302-2', display: 'Body Height', unit: 'cm', lo: 150, hi: 195 },
  { code: '29463-7', display: 'Body Weight', unit: 'kg', lo: 50, hi: 110 },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', lo: 18, hi: 35 },
  { code: '8867-4', display: 'Heart rate', unit: '/min', lo: 55, hi: 100 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', lo: 12, hi: 20 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', lo: 36, hi: 38 },
];
const CONDITIONS = [['38341003', 'Hypertension'], ['44054006', 'Diabetes mellitus type 2'], ['195662009', 'Acute viral pharyngitis'], ['10509002', 'Acute bronchitis'], ['40055000', 'Chronic sinusitis'], ['55822004', 'Hyperlipidemia']];
const MEDS = [['314076', 'lisinopril 10 MG Oral Tablet'], ['860975', 'metformin 500 MG Oral Tablet'], ['197361', 'amlodipine 5 MG Oral Tablet'], ['308136', 'amoxicillin 250 MG Oral Capsule'], ['312961', 'simvastatin 20 MG Oral Tablet']];
const VACCINES = [['140', 'Influenza, seasonal, injectable, preservative free'], ['113', 'Td (adult) preservative free'], ['208', 'SARS-COV-2 (COVID-19) vaccine']];
const PROCEDURES = [['430193006', 'Medication Reconciliation (procedure)'], ['171207006', 'Depression screening'], ['710824005', 'Assessment of health and social care needs']];
const ALLERGIES = [['91936005', 'Allergy to penicillin'], ['300913006', 'Shellfish allergy'], ['232347008', 'Dander (animal) allergy']];

/** A v4-shaped uuid from the generator (deterministic, not random). */
function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const concept = (system: string, [code, display]: readonly string[] | string[]) => ({ coding: [{ system, code, display }], text: display });

/** One patient's bundle. The same seed gives the same bundle, byte for byte. */
export function syntheaBundle(seed: number, opts: SyntheaOptions = {}): FhirBundle {
  const rand = mulberry32(seed);
  const type = opts.type ?? 'transaction';
  const target = opts.entries ?? 300;
  const entries: FhirBundle['entry'] = [];
  const add = (resource: Record<string, unknown> & { resourceType: string }): string => {
    const id = (resource.id as string | undefined) ?? uuidFrom(rand);
    const full = { ...resource, id };
    entries.push({ fullUrl: `urn:uuid:${id}`, resource: full, ...(type === 'collection' ? {} : { request: { method: 'POST', url: resource.resourceType } }) });
    return `urn:uuid:${id}`;
  };
  const patientId = opts.patientId ?? uuidFrom(rand);
  const mrn = opts.mrn ?? `MRN-${seed.toString().padStart(7, '0')}`;
  const birth = new Date(Date.UTC(1940 + Math.floor(rand() * 60), Math.floor(rand() * 12), 1 + Math.floor(rand() * 27)));
  const patient = add({
    resourceType: 'Patient', id: patientId,
    identifier: [
      { system: 'https://github.com/synthetichealth/synthea', value: patientId },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }] }, system: 'http://hospital.smarthealthit.org', value: mrn },
    ],
    name: [{ use: 'official', family: pick(rand, FAMILIES), given: [pick(rand, GIVENS)] }],
    gender: rand() < 0.5 ? 'female' : 'male',
    birthDate: birth.toISOString().slice(0, 10),
  });
  const org = add({ resourceType: 'Organization', active: true, name: `Clinic ${seed % 97}`, identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: `org-${seed % 97}` }] });
  const location = add({ resourceType: 'Location', status: 'active', name: `Clinic ${seed % 97} main site`, managingOrganization: { reference: org } });
  const practitioner = add({
    resourceType: 'Practitioner', active: true, identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: `99${(seed % 9_999_999).toString().padStart(8, '0')}` }],
    name: [{ family: pick(rand, FAMILIES), given: [pick(rand, GIVENS)], prefix: ['Dr.'] }],
  });
  add({ resourceType: 'PractitionerRole', active: true, practitioner: { reference: practitioner }, organization: { reference: org }, location: [{ reference: location }] });
  for (const a of ALLERGIES.slice(0, 1 + Math.floor(rand() * 2))) {
    add({
      resourceType: 'AllergyIntolerance', patient: { reference: patient }, criticality: 'low', recordedDate: birth.toISOString(),
      clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', ['active', 'Active']),
      code: concept('http://snomed.info/sct', a),
    });
  }
  let t = Date.UTC(2010, 0, 1) + Math.floor(rand() * 1e9);
  while (entries.length < target) {
    t += Math.floor((20 + rand() * 60) * 86_400_000);
    const start = new Date(t).toISOString();
    const end = new Date(t + 30 * 60_000).toISOString();
    const enc = add({
      resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [concept('http://snomed.info/sct', ['185349003', 'Encounter for check up (procedure)'])],
      subject: { reference: patient }, participant: [{ individual: { reference: practitioner } }], period: { start, end },
      location: [{ location: { reference: location } }], serviceProvider: { reference: org },
    });
    const refs = { subject: { reference: patient }, encounter: { reference: enc } };
    for (const v of VITALS) {
      add({
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'vital-signs' }] }],
        code: concept('http://loinc.org', [v.code, v.display]), ...refs, effectiveDateTime: start, issued: start,
        valueQuantity: { value: Math.round((v.lo + rand() * (v.hi - v.lo)) * 10) / 10, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.unit },
      });
    }
    if (rand() < 0.3) {
      add({
        resourceType: 'Condition', ...refs, onsetDateTime: start, recordedDate: start,
        clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/condition-clinical', ['active', 'Active']),
        verificationStatus: concept('http://terminology.hl7.org/CodeSystem/condition-ver-status', ['confirmed', 'Confirmed']),
        category: [concept('http://terminology.hl7.org/CodeSystem/condition-category', ['encounter-diagnosis', 'Encounter Diagnosis'])],
        code: concept('http://snomed.info/sct', pick(rand, CONDITIONS)),
      });
    }
    if (rand() < 0.6) {
      add({
        resourceType: 'MedicationRequest', status: rand() < 0.5 ? 'active' : 'stopped', intent: 'order', ...refs, authoredOn: start,
        medicationCodeableConcept: concept('http://www.nlm.nih.gov/research/umls/rxnorm', pick(rand, MEDS)),
        requester: { reference: practitioner }, dosageInstruction: [{ sequence: 1, text: 'Take one tablet daily' }],
      });
    }
    if (rand() < 0.25) {
      add({ resourceType: 'Immunization', status: 'completed', patient: { reference: patient }, encounter: { reference: enc }, occurrenceDateTime: start, primarySource: true, vaccineCode: concept('http://hl7.org/fhir/sid/cvx', pick(rand, VACCINES)) });
    }
    if (rand() < 0.4) {
      add({ resourceType: 'Procedure', status: 'completed', ...refs, performedPeriod: { start, end }, code: concept('http://snomed.info/sct', pick(rand, PROCEDURES)), location: { reference: location } });
    }
    const claim = add({
      resourceType: 'Claim', status: 'active', use: 'claim', created: end, patient: { reference: patient }, provider: { reference: org },
      type: concept('http://terminology.hl7.org/CodeSystem/claim-type', ['professional', 'Professional']),
      priority: concept('http://terminology.hl7.org/CodeSystem/processpriority', ['normal', 'Normal']),
      billablePeriod: { start, end }, insurance: [{ sequence: 1, focal: true, coverage: { display: 'Self-pay' } }],
      item: [{ sequence: 1, productOrService: concept('http://snomed.info/sct', ['185349003', 'Encounter for check up (procedure)']), encounter: [{ reference: enc }] }],
      total: { value: 100 + Math.round(rand() * 400), currency: 'USD' },
    });
    add({
      resourceType: 'ExplanationOfBenefit', status: 'active', use: 'claim', outcome: 'complete', created: end, patient: { reference: patient },
      type: concept('http://terminology.hl7.org/CodeSystem/claim-type', ['professional', 'Professional']),
      insurer: { display: 'Self-pay' }, provider: { reference: practitioner }, claim: { reference: claim }, billablePeriod: { start, end },
      insurance: [{ focal: true, coverage: { display: 'Self-pay' } }],
    });
  }
  return { resourceType: 'Bundle', type, entry: entries };
}

/** The bundle's resources with urn:uuid references rewritten to Type/id (what an importer stores). */
export function resolvedResources(bundle: FhirBundle): (Record<string, unknown> & { resourceType: string; id: string })[] {
  const refs = new Map(bundle.entry.map((e) => [e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`]));
  return bundle.entry.map((e) => JSON.parse(JSON.stringify(e.resource), (k, v: unknown) => (k === 'reference' && typeof v === 'string' && refs.has(v) ? refs.get(v) : v)) as typeof e.resource);
}
