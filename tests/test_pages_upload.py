from apptest_helpers import assert_no_exception, button, page_app


def test_upload_form_requires_attestation(workbench):
    at = page_app("upload.py", role="supplier")
    assert_no_exception(at)
    assert button(at, "Upload and ingest").disabled
    at.text_input(key="upload_dataset").input("reviews")
    at.checkbox(key="upload_attest").check()
    at.run()
    # Still disabled: no file chosen yet (AppTest cannot attach files; ingest is covered in test_upload_ingest).
    assert button(at, "Upload and ingest").disabled
    assert [r.label for r in at.radio] == ["Origin"]
