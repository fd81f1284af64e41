"""The Textual front end. Everything below ``bedrock_top.tui`` may import Textual; nothing
outside it does."""
