/**
 * Clinical notes (DocumentReference) are signed by whoever wrote them. Main, which knows who is
 * signed in, stamps the author — the renderer cannot name someone else — and only the author may
 * amend a note; a colleague adds a note of their own instead (the usual addendum rule). The
 * renderer offers "Amend" only on the user's own notes; this is the rule that holds if it did not.
 */
import type { DocumentReference, Resource } from '@medplum/fhirtypes';

const authorRef = (userId: string): string => `Practitioner/${userId}`;

/** The resource as saved: a note's author is the signed-in user, whatever the caller sent. */
export function stampNoteAuthor(resource: Resource, userId: string): Resource {
  if (resource.resourceType !== 'DocumentReference') return resource;
  return { ...resource, author: [{ reference: authorRef(userId) }] } satisfies DocumentReference;
}

/** May this user change the stored record? Only a note's own author may; other types follow the role rules alone. */
export function mayChangeAsAuthor(stored: Resource, userId: string): boolean {
  if (stored.resourceType !== 'DocumentReference') return true;
  return (stored.author ?? []).some((a) => a.reference === authorRef(userId));
}
