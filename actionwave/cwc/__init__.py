"""The House's Communicating with Congress (CWC) API, XML version 2.0."""
