"""Allow ``python -m bedrock_top``."""

from bedrock_top.cli import main

raise SystemExit(main())
