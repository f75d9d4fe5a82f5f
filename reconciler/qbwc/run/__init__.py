"""The sync run behind a Web Connector session, phase by phase, kept in the store.

A run, one request at a time:

1. **sign-in and version** (:mod:`.signin`): whether a session has work; the
   first ``sendRequestXML`` checks the company file and its FileID and
   negotiates the qbXML version.
2. **refresh** (:mod:`.refresh`): customers, items, the invoices of the mapped
   customers, the invoices reconciler created (by TxnID); iterators followed.
   The responses become a snapshot, with its coverage.
3. **settle** (:mod:`.settle`): what an earlier run sent without an answer,
   and what is queued, is held to the fresh snapshot; lost InvoiceAdds are
   looked for by their ExternalGUID among the invoices modified since.
4. **write** (:mod:`.write`): queued requests in batches, each matched to its
   answer; lock retries, 3200 (stale plan), errors. Then the refresh again,
   when anything changed, so that planning again is empty.
5. **report** (:mod:`.report`): the progress the Web Connector shows, the
   summary at the end, the errors of a run that failed.

:mod:`.driver` moves a run between them, call by call; :mod:`.state` is what
the run remembers (JSON in the session row), :mod:`.call` what a phase works
with during one call. Every transition is written to the session's state in
the store within the call's transaction, before the Web Connector gets its
answer.
"""

from reconciler.qbwc.run.call import RunLimits
from reconciler.qbwc.run.driver import SyncRun

__all__ = ["RunLimits", "SyncRun"]
