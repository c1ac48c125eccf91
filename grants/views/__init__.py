"""The grants' views: public intake and status, the website API, and the staff pages."""
