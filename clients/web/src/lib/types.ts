// The wire shapes (docs/protocol-outline.md; chamber/model.py, events.py, commands.py).
// Field names are exactly the chamber structs' names.

export type Phase = "scheduled" | "opened" | "in_session" | "suspended" | "closed";
export type Presence = "absent" | "in_hall" | "remote" | "left" | "excused";
export type Role = "chair" | "vice_chair" | "secretary" | "delegate" | "guest" | "operator" | "system";
export type TurnKind =
  | "contribution"
  | "debate_reply"
  | "question"
  | "answer"
  | "point_of_order"
  | "explanation";
export type Base = "total_seats" | "present" | "cast";
export type Comparison = "more_than" | "at_least";
export type VoteKind = "motion" | "election" | "confidence";
export type VoteForm = "open" | "secret";
export type VoteStatus = "open" | "closed" | "cancelled";
export type Audience = "public" | "delegate" | "chair";

export const PRESENT: ReadonlySet<Presence> = new Set<Presence>(["in_hall", "remote"]);

export interface Threshold {
  base: Base;
  num: number;
  den: number;
  comparison: Comparison;
}
export interface PassRule {
  threshold: Threshold;
  option: string;
}
export interface VotePreset {
  id: string;
  form: VoteForm;
  options: string[];
  rule: PassRule;
  allow_change: boolean;
  unreachable: "refuse" | "warn";
  duration_s: number | null;
}
export interface SpeakingLimits {
  contribution_first_s: number;
  contribution_next_s: number;
  debate_reply_s: number;
  question_s: number;
  answer_s: number;
  point_of_order_s: number;
  explanation_s: number;
}
export interface Rules {
  quorum: Threshold;
  quorum_to_open: boolean;
  speaking: SpeakingLimits;
  max_open_mics: number;
  presets: Record<string, VotePreset>;
  election: Threshold;
  election_duration_s: number | null;
  confidence_resign: Threshold;
  confidence_no_confidence: Threshold;
  /** Whether the hall sees a named vote's running count; absent means yes. */
  hall_running_count?: boolean;
}
export interface Member {
  id: string;
  name: string;
  seat: string;
  roles: Role[];
}
export interface Guest {
  id: string;
  name: string;
  affiliation: string;
}
export interface Council {
  id: string;
  name: string;
  total_seats: number;
  members: Member[];
  guests: Guest[];
}
export interface AgendaItem {
  id: string;
  title: string;
  presenter: string;
}
export interface Request {
  id: string;
  member: string;
  kind: TurnKind;
  item: string;
  at: number;
  round: string | null;
  note: string;
}
export interface Turn {
  id: string;
  speaker: string;
  kind: TurnKind;
  item: string;
  status: "speaking" | "paused";
  started_at: number;
  since: number;
  elapsed_ms: number;
  limit_ms: number;
  deadline: number | null;
  remaining_ms: number;
  round: string | null;
}
export interface QuestionRound {
  id: string;
  item: string;
  respondent: string;
  questions: string[];
  answered: boolean;
}
export interface Document {
  hash: string;
  title: string;
  version: number;
  series: string;
  media_type: string;
  pages: number;
  item: string | null;
}
export interface Presentation {
  doc: string;
  page: number;
  by: string | null;
}
export interface Motion {
  id: string;
  item: string | null;
  title: string;
  doc: string;
  version: number;
  history: string[];
}
export interface Question {
  id: string;
  label: string;
}
export interface Outcome {
  question: string;
  counts: Record<string, number>;
  approvals: number;
  passed: boolean;
  status: string;
}
export interface Result {
  kind: VoteKind;
  ballots: number;
  present: number;
  total_seats: number;
  threshold: Threshold;
  base_count: number;
  needed: number;
  outcomes: Outcome[];
  passed: boolean;
  elected: string[];
  tied: string[];
  roll_call: Record<string, Record<string, string>> | null;
  /** Members present at the close who had not voted (absent in older records). */
  not_voting?: number;
}
export interface Vote {
  id: string;
  kind: VoteKind;
  title: string;
  form: VoteForm;
  options: string[];
  questions: Question[];
  rule: PassRule;
  allow_change: boolean;
  opened_at: number;
  deadline: number | null;
  duration_s: number | null;
  unreachable: "refuse" | "warn";
  status: VoteStatus;
  motion: string | null;
  text_hash: string | null;
  text_version: number | null;
  positions: number;
  revote_of: string | null;
  present_at_open: number;
  voted: string[];
  ballots: Record<string, Record<string, string>>;
  counts: Record<string, Record<string, number>>;
  result: Result | null;
  /** When it was closed or cancelled (absent while open). */
  closed_at?: number;
  /** The agenda item current when it opened (null: none; absent in an older state). */
  item?: string | null;
}
export interface Sitting {
  id: string;
  council: Council;
  title: string;
  rules: Rules;
  scheduled_at: number;
  phase: Phase;
  opened_at: number | null;
  closed_at: number | null;
  agenda: AgendaItem[];
  current_item: string | null;
  roster: Record<string, Member>;
  attendance: Record<string, Presence>;
  /** The excused members: the reason each gave (chamber's `excuses`). */
  excuses: Record<string, string>;
  guests: Record<string, Guest>;
  queue: Request[];
  turns: Record<string, Turn>;
  rounds: Record<string, QuestionRound>;
  speaking_ms: Record<string, number>;
  speeches: Record<string, number>;
  documents: Record<string, Document>;
  presentation: Presentation | null;
  motions: Record<string, Motion>;
  votes: Record<string, Vote>;
  seq: number;
  head: string;
}

/** Why a request left the queue ungranted (chamber/ids.py Withdrawal). */
export type Withdrawal = "member" | "chair" | "item_changed" | "round_closed";
/** What giving the floor does to whoever is speaking (chamber/ids.py Occupied). */
export type Occupied = "pause" | "second_mic";

// Events (chamber/events.py), tagged by `type`.
export type ChamberEvent =
  | { type: "sitting.scheduled"; sitting: string; council: Council; title: string; scheduled_at: number; rules: Rules; agenda: AgendaItem[] }
  | { type: "sitting.phase"; phase: Phase; reason?: string }
  | { type: "agenda.added"; item: AgendaItem; position: number }
  | { type: "agenda.reordered"; order: string[] }
  | { type: "agenda.current"; item: string }
  | { type: "agenda.removed"; item: string; motions?: string[] }
  | { type: "roster.guest_added"; guest: Guest }
  | { type: "attendance.changed"; member: string; presence: Presence; note?: string }
  | { type: "floor.requested"; request: Request; position?: number | null }
  | { type: "floor.withdrawn"; request: string; member: string; reason?: Withdrawal | null }
  | { type: "turn.started"; turn: Turn; request?: string | null }
  | { type: "turn.paused"; turn: string; elapsed_ms: number; remaining_ms: number }
  | { type: "turn.resumed"; turn: string; deadline: number }
  | { type: "turn.extended"; turn: string; seconds: number; deadline: number | null; limit_ms: number }
  | { type: "turn.ended"; turn: string; speaker: string; elapsed_ms: number; reason: string }
  | { type: "round.opened"; round: QuestionRound }
  | { type: "round.closed"; round: string }
  | { type: "doc.registered"; doc: Document }
  | { type: "doc.presented"; doc: string | null; page: number; by: string | null }
  | { type: "motion.proposed"; motion: Motion }
  | { type: "motion.amended"; motion: string; doc: string; version: number }
  | { type: "vote.opened"; vote: Vote; warning?: string }
  | { type: "ballot.cast"; vote: string; member: string; answers?: Record<string, string> | null; changed?: boolean }
  | { type: "vote.closed"; vote: string; result: Result; reason?: string }
  | { type: "vote.cancelled"; vote: string; reason?: string };

export interface EventItem {
  seq: number;
  at: number;
  event: ChamberEvent;
}

// Commands (chamber/commands.py), tagged by `type`. Only the shape is checked here.
export type Command = { type: string; [field: string]: unknown };

/** What a connection may issue (the welcome's `permits`, chamber/permissions.py): each
 * command type with the phases it may be issued in ("none": no sitting yet), and the
 * commands about a member's own business it may also issue about another member. */
export interface Permits {
  commands: Record<string, string[]>;
  others: string[];
}

export interface VoteView {
  vote: string;
  ballots: number;
  present: number;
  voted: string[] | null;
  counts: Record<string, Record<string, number>> | null;
}

// The figures the consoles show, computed by the hub (chamber/figures.py): a console
// renders them and never computes a rule of procedure itself. Shares are basis points.
export interface Need {
  threshold: Threshold;
  needed: number | null;
  short: number | null;
  refuses: boolean;
}
export interface OptionFigures {
  option: string;
  count: number;
  of_seats_bp: number;
  of_present_bp: number;
}
export interface QuestionFigures {
  question: string;
  options: OptionFigures[];
  status: string;
}
export interface VoteFigures {
  vote: string;
  status: VoteStatus;
  verdict: string;
  closed_at: number | null;
  total_seats: number;
  present: number;
  voted: number;
  not_voted: number;
  absent: number;
  voted_of_seats_bp: number;
  voted_of_present_bp: number;
  base_count: number | null;
  needed: number | null;
  short: number | null;
  counts: boolean;
  questions: QuestionFigures[];
}
export interface SetupFigures {
  presets: Record<string, Need>;
  choices: Need[];
  election: Need;
  confidence_resign: Need;
  confidence_no_confidence: Need;
}
export interface Figures {
  total_seats: number;
  present: number;
  absent: number;
  quorum_needed: number;
  quorate: boolean;
  running_count: boolean;
  vote: VoteFigures | null;
  setup: SetupFigures | null;
}

// Server → client frames.
export type ServerFrame =
  | { t: "welcome"; sitting: string; audience: Audience; member: string | null; role: Role | null; seq: number; snapshot: Sitting | null; server_time: number; lang: string; permits: Permits }
  | { t: "events"; from: number; to: number; events: EventItem[] }
  | { t: "view"; seq: number; vote: VoteView | null; present: number; figures: Figures | null }
  | { t: "ack"; id: string; seq: [number, number] | null; ballot: Record<string, string> | null }
  | { t: "error"; id: string | null; code: string; message: string; params: Record<string, unknown> }
  | { t: "snapshot"; seq: number; snapshot: Sitting }
  | { t: "pong"; n: number; server_time: number }
  | { t: "media.answer"; endpoint: string; sdp: string }
  | ({ t: "media.status" } & MediaStatus);

// Media (issue 8, docs/protocol.md): the hub's view of the video links.
export type MediaKind = "remote" | "room" | "gallery" | "console";
export interface MediaEndpoint {
  id: string;
  kind: MediaKind;
  member: string | null;
  room: string | null;
  name: string;
  seat?: string | null;
  live: boolean;
  muted: boolean;
  silenced: boolean;
  connected: boolean;
  /** The fraction of its packets lost on the way to the hub (0–1). */
  loss: number;
  kbps: number;
  frozen: boolean;
}
export interface MediaStatus {
  floor: string | null;
  endpoints: MediaEndpoint[];
  slots: Record<string, string | null>;
}

export interface LoginInfo {
  token: string;
  kind: "member" | "operator" | "room";
  id: string;
  name: string;
  council: string | null;
  roles: string[];
  expires_at: number;
}
