package devhs

// WriteSynapseConfig prepares dir as Start would for a Synapse with opts
// and writes its homeserver.yaml, whose path it returns, without starting
// anything.
func WriteSynapseConfig(dir string, opts Options) (string, error) {
	opts.Kind = Synapse
	files := newStateFiles(dir, Synapse)
	if _, err := files.prepare(opts.ServerName, ""); err != nil {
		return "", err
	}
	cfg, err := synapseConfig(files, opts, opts.AppserviceFiles)
	if err != nil {
		return "", err
	}
	return files.config, writeConfig(files.config, cfg)
}
