"""Riders and their two-wheelers joined into one road user.

Detectors report a rider as a `person` over a `motorcycle` (COCO boxes the bike alone), and on
dense real traffic they find the rider in most frames and the bike in a few. Tracked apart, the
rider is a pedestrian to the rules (held to the walk signal, never to the vehicle signal) and
the bike a string of short tracks. A road user is what the law addresses: the person riding a
two-wheeler is one road user of the two-wheeler's class, under one id, judged by the red-light
rule; its box is the union of rider and bike, and a frame that shows only one of them is placed
by that part's last offset to the union, so the ground point stays on the road.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors.tracking import TrackedObject
from pipeline.geometry import Box, enclosing, intersection, iou

ZERO: Box = (0.0, 0.0, 0.0, 0.0)
TWO_WHEELERS = frozenset({"motorcycle", "bicycle"})
RIDING_OVERLAP = 0.25
"""Share of the person's box the two-wheeler's box must cover in a frame where they ride it."""
HEAD_IN_BOX_SHARE = 0.2
"""How far down a two-wheeler's box (share of its height) a rider's head may start: a box that
holds bike and rider starts at the helmet, a walker behind a bike has the head lower down."""
JOIN_FRAMES = 3
"""Frames, seen together and riding, before a person and a two-wheeler are one road user; as
many seen together not riding part them again (a walker passing a parked bike)."""
CONTINUE_S = 1.0
"""How long a lost track may be continued by a new track of a kindred class where it was heading."""
CONTINUE_IOU = 0.3
"""Overlap a new track needs with where the lost one was heading, to continue it."""
KINDRED = (frozenset({"person", "motorcycle", "bicycle"}), frozenset({"car", "bus", "truck"}))
"""Classes one road user can flip between as the detector sees it (a rider alone, the bike and
rider; a van as a car, a bus or a truck)."""


def ridden_by(person: Box, wheels: Box) -> bool:
    """Whether the person box sits on the two-wheeler box as a rider does.

    The bike covers a good share of the rider, the rider's feet are on its lower part (foot
    pegs or the road beside it, not in front of or behind it), and the rider's head is above it
    or in its top part: COCO's `motorcycle` box holds the bike alone, the traffic model's
    `motobike` the bike and its rider.
    """
    px1, py1, px2, py2 = person
    wx1, wy1, wx2, wy2 = wheels
    area = max(px2 - px1, 0.0) * max(py2 - py1, 0.0)
    if area <= 0 or wy2 <= wy1:
        return False
    overlap = intersection(person, wheels)
    height = wy2 - wy1
    feet_on_it = wy1 + 0.25 * height <= py2 <= wy2 + 0.15 * height
    centred = wx1 <= (px1 + px2) / 2 <= wx2
    head_on_top = py1 < wy1 + HEAD_IN_BOX_SHARE * height
    return overlap >= RIDING_OVERLAP * area and feet_on_it and centred and head_on_top


def _size(box: Box) -> tuple[float, float]:
    return max(box[2] - box[0], 1e-6), max(box[3] - box[1], 1e-6)


def _minus(a: Box, b: Box) -> Box:
    """Where box `a`'s sides lie from box `b`'s, in `b`'s widths and heights: a road user
    placed from one part keeps its shape as it nears or leaves the camera (in pixels, a rider
    joined far away was placed far below his own wheels when near)."""
    w, h = _size(b)
    return (a[0] - b[0]) / w, (a[1] - b[1]) / h, (a[2] - b[2]) / w, (a[3] - b[3]) / h


def shift(box: Box, offset: Box) -> Box:
    """The box whose sides lie `offset` (from `_minus`) from this one's."""
    w, h = _size(box)
    return (
        box[0] + offset[0] * w,
        box[1] + offset[1] * h,
        box[2] + offset[2] * w,
        box[3] + offset[3] * h,
    )


@dataclass(frozen=True)
class Join:
    """Track `merged` became part of road user `into`; both histories move by their offsets."""

    into: int
    into_offset: Box
    merged: int
    merged_offset: Box


@dataclass
class _User:
    object_class: str
    offsets: dict[int, Box] = field(default_factory=dict)
    """Member track id -> where the road user's box lies from its box (`_minus`)."""
    riders: set[int] = field(default_factory=set)


class RoadUsers:
    """Turns one frame's tracked objects into road users; a user's id is its first bike's id.

    Two road users are never merged: a person seen on two bikes at once (a dense queue in
    perspective) rides the one that fits best, and a bike joins a rider's road user only when
    that user's own bike is not in the frame (the detector lost it and found it again).
    """

    def __init__(self) -> None:
        self._users: dict[int, _User] = {}
        self._member_of: dict[int, int] = {}
        self._pairs: dict[tuple[int, int], int] = {}
        """(person, two-wheeler) -> consecutive frames seen riding (> 0) or apart (< 0)."""
        self._last_seen: dict[int, float] = {}
        self._recent: dict[int, list[tuple[float, TrackedObject]]] = {}
        """Track id -> its last two sightings, to predict where a lost track went."""

    def update(self, seen: list[TrackedObject], t: float) -> tuple[list[TrackedObject], list[Join]]:
        """This frame's road users, and the joins made in it (apply those to histories first)."""
        fresh = [o for o in seen if o.track_id not in self._last_seen]
        for obj in seen:
            self._last_seen[obj.track_id] = t
            self._recent[obj.track_id] = [*self._recent.get(obj.track_id, [])[-1:], (t, obj)]
        self._continue_lost(fresh, seen, t)
        wheels = [o for o in seen if o.object_class in TWO_WHEELERS]
        joins: list[Join] = []
        for person in (o for o in seen if o.object_class == "person"):
            ridden = [b for b in wheels if ridden_by(person.box, b.box)]
            best = max(ridden, key=lambda b: intersection(person.box, b.box), default=None)
            own = self._member_of.get(person.track_id)
            for bike in wheels:
                if bike is best or (own is not None and self._member_of.get(bike.track_id) == own):
                    joins += self._pair(person, bike, bike is best, t)
        return self._place(seen), joins

    def _pair(
        self, person: TrackedObject, bike: TrackedObject, riding: bool, t: float
    ) -> list[Join]:
        key = (person.track_id, bike.track_id)
        count = self._pairs.get(key, 0)
        self._pairs[key] = count = max(count, 0) + 1 if riding else min(count, 0) - 1
        own = self._member_of.get(person.track_id)
        if own is not None and own == self._member_of.get(bike.track_id):
            if count <= -JOIN_FRAMES:  # they parted: a walker beside a bike, not its rider
                del self._member_of[person.track_id], self._pairs[key]
                self._users[own].offsets.pop(person.track_id)
                self._users[own].riders.discard(person.track_id)
            return []
        return self._join(person, bike, t) if count >= JOIN_FRAMES else []

    def _join(self, person: TrackedObject, bike: TrackedObject, t: float) -> list[Join]:
        union = enclosing(person.box, bike.box)
        bike_user = self._member_of.get(bike.track_id)
        person_user = self._member_of.get(person.track_id)
        if bike_user is None and person_user is None:
            self._users[bike.track_id] = _User(bike.object_class)
            joined = Join(
                bike.track_id, _minus(union, bike.box), person.track_id, _minus(union, person.box)
            )
        elif person_user is None and bike_user is not None:
            joined = Join(bike_user, ZERO, person.track_id, _minus(union, person.box))
        elif bike_user is None and person_user is not None and not self._bike_seen(person_user, t):
            # Keep the road user where its rider places it; the new bike fits in there.
            union = shift(person.box, self._users[person_user].offsets[person.track_id])
            joined = Join(person_user, ZERO, bike.track_id, _minus(union, bike.box))
        else:
            return []
        user = self._users[joined.into]
        for part in (bike, person):
            self._member_of[part.track_id] = joined.into
            user.offsets[part.track_id] = _minus(union, part.box)
        user.riders.add(person.track_id)
        return [joined]

    def _continue_lost(
        self, fresh: list[TrackedObject], seen: list[TrackedObject], t: float
    ) -> None:
        """A new track where a lost one of a kindred class was heading continues its road user.

        The tracker keeps an id only within a class group, and dense traffic hides a rider for a
        frame or two, after which the detector may find them as a bike: without this, the road
        user who crossed the stop line is not the one who crosses the entry line.
        """
        present = {self._member_of.get(o.track_id, o.track_id) for o in seen}
        taken: set[int] = set()
        for new in fresh:
            kin = next((k for k in KINDRED if new.object_class in k), frozenset())
            best, best_iou = None, CONTINUE_IOU
            for track_id, sightings in self._recent.items():
                user_id = self._member_of.get(track_id, track_id)
                last_t, last = sightings[-1]
                if (
                    last_t >= t
                    or t - last_t > CONTINUE_S
                    or user_id in present
                    or user_id in taken
                    or last.object_class not in kin
                ):
                    continue
                overlap = iou(_predicted(sightings, t), new.box)
                if overlap > best_iou:
                    best, best_iou = (track_id, last), overlap
            if best is not None:
                taken.add(self._adopt(new, *best))

    def _adopt(self, new: TrackedObject, lost_id: int, lost: TrackedObject) -> int:
        user_id = self._member_of.get(lost_id, lost_id)
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User(lost.object_class, {lost_id: ZERO})
            self._member_of[lost_id] = user_id
            if lost.object_class == "person":
                user.riders.add(lost_id)
        if new.object_class == "person":
            user.riders.add(new.track_id)
            rider_offsets = [user.offsets[r] for r in user.riders if r in user.offsets]
            user.offsets[new.track_id] = rider_offsets[0] if rider_offsets else ZERO
        else:
            user.offsets[new.track_id] = ZERO
            if user.object_class == "person":
                user.object_class = new.object_class
        self._member_of[new.track_id] = user_id
        return user_id

    def _bike_seen(self, user_id: int, t: float) -> bool:
        user = self._users[user_id]
        return any(self._last_seen.get(m) == t for m in user.offsets if m not in user.riders)

    def _place(self, seen: list[TrackedObject]) -> list[TrackedObject]:
        out: list[TrackedObject] = []
        parts: dict[int, list[TrackedObject]] = {}
        for obj in seen:
            user_id = self._member_of.get(obj.track_id)
            if user_id is None:
                out.append(obj)
            else:
                parts.setdefault(user_id, []).append(obj)
        for user_id, members in parts.items():
            user = self._users[user_id]
            riders = [m for m in members if m.track_id in user.riders]
            bikes = [m for m in members if m.track_id not in user.riders]
            if riders and bikes and ridden_by(riders[0].box, bikes[0].box):
                box = enclosing(riders[0].box, bikes[0].box)
                for m in (riders[0], bikes[0]):
                    user.offsets[m.track_id] = _minus(box, m.box)
            else:
                # The bike places the road user when seen; a rider alone only if no bike is.
                part = (bikes or riders)[0]
                box = shift(part.box, user.offsets[part.track_id])
            score = max(m.score for m in members)
            out.append(TrackedObject(user_id, user.object_class, box, score))
        return out

    def forget(self, cutoff_s: float) -> None:
        """Drop what is known of tracks not seen since `cutoff_s` (bounded memory)."""
        gone = {k for k, t in self._last_seen.items() if t < cutoff_s}
        for track_id in gone:
            del self._last_seen[track_id]
            self._recent.pop(track_id, None)
            user_id = self._member_of.pop(track_id, None)
            if user_id is None:
                continue
            user = self._users[user_id]
            user.offsets.pop(track_id)
            user.riders.discard(track_id)
            if not user.offsets:
                del self._users[user_id]
        self._pairs = {k: v for k, v in self._pairs.items() if not gone.intersection(k)}


def _predicted(sightings: list[tuple[float, TrackedObject]], t: float) -> Box:
    """Where a track's box would be at `t`, moving on as between its last two sightings."""
    last_t, last = sightings[-1]
    if len(sightings) < 2:
        return last.box
    prev_t, prev = sightings[0]
    rate = (t - last_t) / max(last_t - prev_t, 1e-6)
    return tuple(b + (b - a) * rate for a, b in zip(prev.box, last.box, strict=True))  # type: ignore[return-value]
