"""The bienveilleurs network, its directory of interlocutors, referrals and the conciergerie de
l'emploi. Personal data here is treated like medical data: encrypted at rest, visible to the
people in charge only, every access logged, purged after a retention period."""
