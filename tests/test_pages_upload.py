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


def test_an_upload_says_where_to_go_next(workbench):
    at = page_app("upload.py", role="supplier")
    at.file_uploader(key="upload_files").upload("notes.csv", b"title,text\nTram,The council approved the tram.\n",
                                                 "text/csv")
    at.text_input(key="upload_dataset").input("upload-next-steps")
    at.checkbox(key="upload_attest").check()
    at.run()
    button(at, "Upload and ingest").click().run()
    assert_no_exception(at)
    assert any("ingested into uploads/upload-next-steps" in s.value for s in at.success)
    assert {"Open the records in Raw Explorer", "Refine upload-next-steps"} <= {
        link.label for link in at.get("page_link")}
    at.switch_page("pages/refine.py").run()  # Refine opens on the dataset just uploaded to
    assert at.selectbox(key="ref_dataset").value == "upload-next-steps"
