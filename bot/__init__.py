"""Chat surfaces over the knowledge core: the command line and console now, Slack next."""
