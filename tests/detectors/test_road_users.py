"""Riders and two-wheelers joined into road users, on hand-made frames."""

import pytest

from detectors.road_users import JOIN_FRAMES, RoadUsers, ridden_by, shift
from detectors.tracking import TrackedObject

PERSON = (100.0, 100.0, 140.0, 200.0)
UNDER = (95.0, 150.0, 150.0, 210.0)


def rider(y: float = 0.0, track_id: int = 1) -> TrackedObject:
    x1, y1, x2, y2 = PERSON
    return TrackedObject(track_id, "person", (x1, y1 + y, x2, y2 + y), 0.8)


def bike(y: float = 0.0, track_id: int = 2, dx: float = 0.0) -> TrackedObject:
    x1, y1, x2, y2 = UNDER
    return TrackedObject(track_id, "motorcycle", (x1 + dx, y1 + y, x2 + dx, y2 + y), 0.6)


@pytest.mark.parametrize(
    ("wheels", "rides", "why"),
    [
        (UNDER, True, "sits on it"),
        ((150.0, 150.0, 200.0, 210.0), False, "beside it"),
        ((95.0, 60.0, 150.0, 120.0), False, "the bike is behind, the person's feet below it"),
        ((95.0, 205.0, 150.0, 260.0), False, "the bike is in front, the person's feet above it"),
        ((92.0, 95.0, 150.0, 210.0), True, "a bike-and-rider box (traffic model) holds the rider"),
        ((92.0, 60.0, 150.0, 190.0), False, "a bike-and-rider box ending above the feet"),
        ((92.0, 60.0, 150.0, 205.0), False, "the head well below a bike-and-rider box's top"),
    ],
)
def test_ridden_by_needs_the_person_sitting_on_the_two_wheeler(wheels, rides, why) -> None:
    assert ridden_by(PERSON, wheels) is rides, why


def test_a_rider_and_bike_become_one_road_user_of_the_bike_class() -> None:
    users = RoadUsers()
    for i in range(JOIN_FRAMES - 1):
        seen, joins = users.update([rider(-10 * i), bike(-10 * i)], t=i * 0.1)
        assert joins == [] and {o.track_id for o in seen} == {1, 2}, "not yet: could be a passer-by"
    t = (JOIN_FRAMES - 1) * 0.1
    seen, joins = users.update([rider(-20), bike(-20)], t=t)
    assert [(o.track_id, o.object_class) for o in seen] == [(2, "motorcycle")]
    assert seen[0].box == (95.0, 80.0, 150.0, 190.0), "rider and bike in one box"
    assert [(j.into, j.merged) for j in joins] == [(2, 1)]
    assert shift(rider(-20).box, joins[0].merged_offset) == seen[0].box, "the rider's offset"
    # The bike goes unseen: the rider alone places the road user, wheels on the road.
    seen, _ = users.update([rider(-30)], t=t + 0.1)
    assert [(o.track_id, o.object_class) for o in seen] == [(2, "motorcycle")]
    assert seen[0].box == (95.0, 70.0, 150.0, 180.0)


def test_a_rider_seen_alone_nearer_the_camera_is_placed_at_his_own_scale() -> None:
    """Joined far away, then seen alone twice as large (nearer): the road user is twice as
    large too, its wheels below his feet by twice as much, not by the far-away pixels (a
    rider's history was once placed 90 px below his wheels, past the frame's edge)."""
    users = RoadUsers()
    for i in range(JOIN_FRAMES):
        seen, _ = users.update([rider(), bike()], t=i * 0.1)
    ((_, y1, _, y2),) = [o.box for o in seen]  # (95, 100, 150, 210): rider and bike
    near = TrackedObject(1, "person", (100.0, 300.0, 180.0, 500.0), 0.8)  # 2x the rider
    seen, _ = users.update([near], t=JOIN_FRAMES * 0.1)
    assert seen[0].box == pytest.approx((90.0, 300.0, 200.0, 520.0))
    assert seen[0].box[3] - seen[0].box[1] == pytest.approx(2 * (y2 - y1))


def test_a_walker_passing_a_bike_is_not_joined() -> None:
    users = RoadUsers()
    for i, dx in enumerate([-60, -20, 20, 60, 100]):  # the bike lines up under them only twice
        seen, joins = users.update([rider(), bike(dx=dx)], t=i * 0.1)
        assert joins == []
    assert {o.object_class for o in seen} == {"person", "motorcycle"}


def test_a_person_who_gets_off_is_a_pedestrian_again() -> None:
    users = RoadUsers()
    for i in range(JOIN_FRAMES):
        users.update([rider(), bike()], t=i * 0.1)
    for i in range(JOIN_FRAMES):
        seen, _ = users.update([rider(), bike(dx=80)], t=1 + i * 0.1)
    assert sorted((o.track_id, o.object_class) for o in seen) == [(1, "person"), (2, "motorcycle")]


def test_a_re_found_bike_joins_its_rider_under_the_same_id() -> None:
    users = RoadUsers()
    for i in range(JOIN_FRAMES):
        users.update([rider(), bike()], t=i * 0.1)
    users.update([rider()], t=1.0)  # bike 2 lost by the detector, found again as track 5
    for i in range(JOIN_FRAMES):
        seen, joins = users.update([rider(), bike(track_id=5)], t=2 + i * 0.1)
    assert [(j.into, j.merged) for j in joins] == [(2, 5)]
    assert [(o.track_id, o.object_class) for o in seen] == [(2, "motorcycle")]


def test_two_bikes_in_one_frame_stay_two_road_users() -> None:
    """A queue in perspective: a rider's box also lies on the bike behind."""
    users = RoadUsers()
    for i in range(JOIN_FRAMES):
        users.update([rider(), bike()], t=i * 0.1)
    for i in range(2 * JOIN_FRAMES):
        seen, joins = users.update([rider(), bike(), bike(track_id=7, dx=8)], t=1 + i * 0.1)
        assert joins == []
    assert sorted(o.track_id for o in seen) == [2, 7]


def test_forgotten_tracks_leave_no_state() -> None:
    users = RoadUsers()
    for i in range(JOIN_FRAMES):
        users.update([rider(), bike()], t=i * 0.1)
    users.forget(cutoff_s=10.0)
    seen, _ = users.update([rider()], t=11.0)
    assert [(o.track_id, o.object_class) for o in seen] == [(1, "person")]
    assert users._users == {} and users._pairs == {} and users._member_of == {}


def up(track_id: int, object_class: str, y: float, x: float = 100.0) -> TrackedObject:
    return TrackedObject(track_id, object_class, (x, y, x + 40.0, y + 80.0), 0.5)


def test_a_lost_rider_found_again_as_a_bike_keeps_his_id_and_becomes_a_vehicle() -> None:
    """Seen in Hanoi: a rider tracked as a person is hidden for two frames on the zebra, then
    found as a bike (another class group, another tracker id) where he was heading."""
    users = RoadUsers()
    for i in range(4):
        seen, _ = users.update([up(1, "person", 300 - 20 * i)], t=i * 0.2)
    # Lost at t 0.8 and 1.0; at 1.2 the bike is 2 frames on at the same pace (y 300-20*6).
    seen, _ = users.update([up(9, "motorcycle", 180)], t=1.2)
    assert [(o.track_id, o.object_class) for o in seen] == [(1, "motorcycle")]
    assert seen[0].box == (100.0, 180.0, 140.0, 260.0), "placed by the bike's own box"
    seen, _ = users.update([up(9, "motorcycle", 160)], t=1.4)
    assert [o.track_id for o in seen] == [1]


@pytest.mark.parametrize(
    ("new", "t", "why"),
    [
        (up(9, "motorcycle", 300), 1.2, "where he was, not where he was heading"),
        (up(9, "car", 180), 1.2, "a car is not what a rider is seen as"),
        (up(9, "motorcycle", 180), 2.5, "lost too long ago"),
    ],
)
def test_a_new_track_continues_no_one_it_cannot_be(new: TrackedObject, t: float, why: str) -> None:
    users = RoadUsers()
    for i in range(4):
        users.update([up(1, "person", 300 - 20 * i)], t=i * 0.2)
    seen, _ = users.update([new], t=t)
    assert [o.track_id for o in seen] == [9], why


def test_a_road_user_still_in_view_is_not_continued_by_another() -> None:
    users = RoadUsers()
    for i in range(4):
        users.update([up(1, "person", 300 - 20 * i)], t=i * 0.2)
    seen, _ = users.update([up(1, "person", 220), up(9, "motorcycle", 220, x=104)], t=0.8)
    assert sorted(o.track_id for o in seen) == [1, 9]
