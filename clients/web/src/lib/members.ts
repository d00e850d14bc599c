// Finding and listing members as a council's staff expect: a search that ignores case and
// Vietnamese diacritics ("nguyen van an" finds "Nguyễn Văn An"), and roles in the council's
// own order, not the order a list happened to be stored in.

/** Lower case, no diacritics: NFD splits "ễ" into "e" + marks, the marks are dropped; "đ"
 * has no decomposition and is mapped by hand. */
export function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase();
}

/** Does a member match what was typed? Every word typed must appear in the name or the seat,
 * in any order ("an nguyen" finds "Nguyễn Văn An"; "A12" finds seat A12). */
export function matches(m: { name: string; seat?: string }, query: string): boolean {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = `${fold(m.name)} ${fold(m.seat ?? "")}`;
  return words.every((w) => hay.includes(w));
}

/** The council's order of rank (chamber's roles): the chair (chủ tọa, chủ tịch), the vice-
 * chair (phó chủ tịch), the secretary (thư ký, ủy viên thư ký), the delegates. */
export const ROLE_ORDER = ["chair", "vice_chair", "secretary", "delegate"];

const rank = (role: string): number => {
  const i = ROLE_ORDER.indexOf(role);
  return i < 0 ? ROLE_ORDER.length : i;
};

/** A member's roles, highest first. */
export function sortRoles<R extends string>(roles: readonly R[]): R[] {
  return [...roles].sort((a, b) => rank(a) - rank(b));
}

/** A member's rank: their highest role's place in ROLE_ORDER. */
export const memberRank = (roles: readonly string[]): number => Math.min(ROLE_ORDER.length, ...roles.map(rank));
