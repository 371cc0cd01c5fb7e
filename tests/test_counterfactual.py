"""A counterfactual run killed part-way resumes without retraining finished jobs and matches an uninterrupted run."""
from resume_cf import resume_check, N_JOBS

def test_counterfactual_resumes_after_kill(tmp_path):
    r = resume_check(tmp_path)
    assert r['killed'] and 3 <= r['done_before_kill'] < N_JOBS
    assert r['resumed']['jobs_reused'] == r['done_before_kill'], r['resumed']
    assert r['resumed']['jobs_run'] == N_JOBS - r['done_before_kill']
    assert r['full']['jobs_run'] == N_JOBS and r['full']['jobs_reused'] == 0
    assert r['resumed']['table'] == r['full']['table']   # the same numbers, exactly
