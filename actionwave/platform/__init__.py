"""The platform every other part stands on: settings read once from the environment
(``config``), the database engine and sessions (``db``), the Redis client factory
(``redis_clients``), token-bucket rate limits shared by every process (``ratelimit``), logs, the
garbage collector's settings (``collector``), batching across threads (``batching``) and the
migration runner (``migrate``).

Knows nothing of campaigns: imports no other ``actionwave`` package, only libraries.
"""
