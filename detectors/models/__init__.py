"""Model tooling that needs the `ultralytics` extra: never imported by the detection hot path."""
