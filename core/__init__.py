"""DataBroker Workbench core library: all logic, no Streamlit."""
