"""publisher: schedule and publish government policy communication.

Staff write a policy summary once; publisher renders posts from templates,
queues them per channel, and a daemon publishes them (portal, fanpages, the
embedded outbox) with retries, no duplicates and a hash-chained journal.
"""

__version__ = "0.1.0"
