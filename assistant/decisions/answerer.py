"""The decision records as the answer service's record answerer: `RECORDS` bundles the
answer that quotes a matching record, the test for "latest position" questions and the
register kept beside an index. Whoever builds an `AnswerService` (the app, the tests) passes
it in, so the answer layer never imports the decisions layer above it.
"""

from __future__ import annotations

from ..answer.service import RecordAnswerer
from .answer import decision_answer, is_latest_question
from .register import DecisionRegister

RECORDS = RecordAnswerer(answer=decision_answer, is_latest_question=is_latest_question, register_of=DecisionRegister.of)
