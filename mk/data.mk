# Data the tests and the image models read, installed from Debian when missing (nothing
# is downloaded at run time):
#   fashion-mnist   Debian's dataset-fashion-mnist: the four gzip'd idx files of
#                   Fashion-MNIST in /usr/share/datasets/fashion-mnist (package dataset's
#                   FashionMNIST reads them; its tests skip without them)

.PHONY: fashion-mnist

fashion-mnist:
	@dpkg-query -W -f='$${Status}' dataset-fashion-mnist 2>/dev/null | grep "install ok installed" >/dev/null || \
		{ echo "==> installing dataset-fashion-mnist (Fashion-MNIST's idx files, about 30 MB)"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dataset-fashion-mnist >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dataset-fashion-mnist >/dev/null; }; }
