// The version the original prints for -v and in its status lines: admins' scripts
// compare it, so it stays the original's.

export const VERSION_LINE = 'Linux Director v1.186-ha';

export const VERSION_TEXT = `${VERSION_LINE}
1999-2006 Jacob Rief, Horms and others
<http://www.vergenet.net/linux/ldirectord/>

ldirectord comes with ABSOLUTELY NO WARRANTY.
This is free software, and you are welcome to redistribute it
under certain conditions. See the GNU General Public Licence for details.
`;
