"""The `stopline` commands, one module per command group; `stopline.cli` assembles them."""
