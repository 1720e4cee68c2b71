"""The governed glossary: loading, validation, retrieval and the transport-neutral Answer."""
