"""`jiyue import`: bringing a bundle of items into a site (整合迁移); see docs/import-format.md."""
